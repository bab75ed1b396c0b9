// Every `tix` subcommand, one module each. Add new commands here.
import type { Command } from '../command.js';

export const commands: Command[] = [];
