/**
 * Whether a GPU adapter or renderer name is a CPU implementation (SwiftShader, llvmpipe,
 * lavapipe, Microsoft Basic Render): correct, but far slower than wasm, so hosts neither pick it
 * automatically nor time it unasked.
 */
export function isSoftwareRenderer(name: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i.test(name);
}
