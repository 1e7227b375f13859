// Loaded with `node --import ./register.mjs`: routes the client's HTTP to the sandbox.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
