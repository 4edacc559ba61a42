// placeholder replaced by the dashboard verb
import type { CliContext } from '../cli-context.js';
export function dashboardVerbs(_ctx: CliContext) {
  return [];
}
