/**
 * Commands that execute plans: run, task, status, ls, gc, report.
 */
export const runCommands = [] as const
