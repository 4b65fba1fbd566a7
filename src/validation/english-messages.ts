import { en } from 'zod/locales';
import { config } from 'zod/mini';

// Imported for its effect by every module that defines a schema. racewatch uses zod/mini, not full zod:
// it is tree-shakeable, so the bundle keeps ~70 KB of zod instead of ~750 KB (about 50 ms of start-up
// here). zod/mini registers no locale of its own; without English, zod's own messages (wrong type, not
// one of the options) would all read "Invalid input" instead of naming what was expected.
config(en());
