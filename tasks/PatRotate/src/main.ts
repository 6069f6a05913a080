// Entry point: the real agent (task-lib), handed to the run. Everything else is in app/.
import { taskLibAgent } from './agent';
import { run } from './app/run';

void run(taskLibAgent());
