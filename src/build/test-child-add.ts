// A separate process for the crash tests: `tix --store local?root=<argv[2]> store add <argv[3]>`
// through the CLI's own entry point. Not used outside tests.
import { main } from '../cli/tix.js';

const [root, src] = process.argv.slice(2) as [string, string];
main(['--store', `local?root=${root}`, 'store', 'add', src]);
