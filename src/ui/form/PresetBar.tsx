import { useState } from 'react';
import { PRESETS, type PresetName } from '../../core/presets.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { specToHash } from '../specUrl.ts';

const PRESET_BUTTONS: { name: PresetName; label: string; detail: string }[] = [
  { name: 'quick-demo', label: 'Quick demo', detail: 'small, noisy labels (β 0.5), seconds to run' },
  { name: 'paper', label: 'Paper defaults', detail: "the paper's settings; minutes to run in a browser" },
];
const PRESET_HASHES = Object.fromEntries(PRESET_BUTTONS.map((p) => [p.name, specToHash(PRESETS[p.name]())]));

export function PresetBar() {
  const { applyPreset } = useActions();
  const hash = useLab((s) => (s.validation.ok ? specToHash(s.validation.spec) : null));
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
    setTimeout(() => setCopied('idle'), 2000);
  };
  return (
    <div className="preset-bar" role="group" aria-label="Presets and sharing">
      {PRESET_BUTTONS.map((p) => (
        <button
          key={p.name}
          type="button"
          className={hash === PRESET_HASHES[p.name] ? 'preset is-on' : 'preset'}
          aria-pressed={hash === PRESET_HASHES[p.name]}
          title={p.detail}
          onClick={() => applyPreset(p.name)}
        >
          {p.label}
        </button>
      ))}
      <button type="button" className="link-button" onClick={copyLink} disabled={!hash} title="The link holds the whole spec: opening it restores this experiment">
        {copied === 'copied' ? 'Link copied' : copied === 'failed' ? 'Copy the address bar' : 'Copy link'}
      </button>
    </div>
  );
}
