// Entry point (placeholder until the task is assembled).
import * as tl from 'azure-pipelines-task-lib/task';

tl.setResult(tl.TaskResult.Failed, 'PatRotate is not assembled yet.');
