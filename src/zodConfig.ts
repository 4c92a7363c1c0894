import { z } from 'zod';

// Browser hosts only (page and worker). zod compiles fast parsers with `new Function` after probing whether eval is allowed; under
// this app's Content-Security-Policy the probe itself is reported as a violation. Import this
// module first, before any schema is built or used.
z.config({ jitless: true });
