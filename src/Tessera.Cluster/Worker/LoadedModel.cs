using Tessera.Cluster.Collective;
using Tessera.Cluster.Telemetry;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// A model loaded on the worker: its session and one dedicated thread that runs requests in arrival order, so
/// the connection loops never block on compute and micro-batches queue up behind each other. A caller allowed to
/// (a connection's own frame thread) runs its request itself when the session is idle and nothing is queued, instead
/// of handing it to the model's thread. A tensor-parallel
/// shard's run carries its group run, which the thread hands to the model's communicator for that run only; the
/// ranks of a group see their runs in the same order because rank 0 relays each RUN to the others under
/// <see cref="RelayGate"/> before queueing its own.
/// </summary>
internal sealed class LoadedModel : IDisposable
{
    // A plain queue under a monitor rather than a BlockingCollection: the latter's wait spins (sched_yield) before it
    // sleeps, and on a machine whose cores the workers share with each other and their coordinator that spinning
    // was 3-4% of all CPU in a 3-stage pipeline (perf, bench-cluster). Monitor.Wait sleeps at once.
    private readonly Queue<Job> _jobs = new();
    private bool _closed;
    // A run is on the session, on the model's thread or on a caller's (under the queue's lock).
    private bool _running;
    private readonly Thread _thread;

    private readonly NetworkCommunicator _communicator;
    private readonly Func<DataType, int[], Tensor> _allocateOutput;

    /// <summary>The worker's pooled output storage, which a run's own allocator falls back to.</summary>
    public Func<DataType, int[], Tensor> PooledOutputs => _allocateOutput;

    public LoadedModel(string hash, InferenceSession session, NetworkCommunicator communicator, long bytes, ITensorAllocator outputs)
    {
        _allocateOutput = outputs.Allocate;
        Hash = hash;
        Session = session;
        _communicator = communicator;
        Bytes = bytes;
        InputNames = session.Inputs.Select(i => i.Name).ToArray();
        OutputNames = session.Outputs.Select(o => o.Name).ToArray();
        _thread = new Thread(RunJobs) { IsBackground = true, Name = $"tessera model {hash[..12]}" };
        _thread.Start();
    }

    public string Hash { get; }

    public InferenceSession Session { get; }

    /// <summary>What the model is charged against the memory budget.</summary>
    public long Bytes { get; }

    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    /// <summary>CPU time per run at each batch size, for coordinators choosing micro-batch sizes.</summary>
    public RunCosts Costs { get; } = new();

    /// <summary>Held by rank 0 of a group while it relays a RUN to the other ranks and queues its own run.</summary>
    public SemaphoreSlim RelayGate { get; } = new(1, 1);

    /// <summary>
    /// Queues a run; the task completes on the model's thread, which runs the awaiting continuation inline. Outputs go
    /// into storage from <paramref name="allocateOutput"/> (the worker's pool when null). With
    /// <paramref name="runHere"/>, a run of one rank that finds the session idle and no run queued runs on the
    /// caller's thread instead and returns completed: the hand-off to the model's thread cost a futex wake, its
    /// sleep and a context switch per run (perf, bench-cluster 3-stage pipeline). The session is free again before
    /// the task completes, so the caller's continuation (sending the outputs) overlaps the next queued run.
    /// </summary>
    /// <param name="request">The request's id, which only a pipeline trace records (<see cref="PipelineTrace"/>).</param>
    public Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs, GroupRun? group = null, Func<DataType, int[], Tensor>? allocateOutput = null, bool runHere = false, ulong request = 0)
    {
        var job = new Job(inputs, group, allocateOutput ?? _allocateOutput, new TaskCompletionSource<IReadOnlyDictionary<string, Tensor>>(), request);
        lock (_jobs)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!runHere || group is not null || _running || _jobs.Count != 0)
            {
                _jobs.Enqueue(job);
                // A session in use is pulsed for when that run ends.
                if (!_running)
                {
                    Monitor.Pulse(_jobs);
                }

                return job.Completion.Task;
            }

            _running = true;
        }

        var failure = Execute(job, out var outputs);
        Complete(job, outputs, failure);
        return job.Completion.Task;
    }

    private void RunJobs()
    {
        while (NextJob() is { } job)
        {
            var failure = Execute(job, out var outputs);
            // The awaiting stage's continuation (sending the outputs on) runs here, on this thread, until it first
            // waits: handing it to the thread pool cost a futex wake and a context switch per run, which on cores
            // shared by several workers was a few percent of their CPU (perf, bench-cluster 3-stage pipeline).
            Complete(job, outputs, failure);
        }
    }

    /// <summary>Runs <paramref name="job"/> on the session (which the caller holds: <see cref="_running"/>) and frees it for the next.</summary>
    private Exception? Execute(Job job, out IReadOnlyDictionary<string, Tensor>? outputs)
    {
        outputs = null;
        Exception? failure = null;
        _communicator.Begin(job.Group);
        try
        {
            int rows = RunCosts.RowsOf(InputNames, job.Inputs);
            bool timed = Costs.WantsTiming(rows);
            double started = timed ? Native.Libc.ThreadCpuSeconds() : 0;
            var traced = PipelineTrace.Start();
            outputs = Session.Run(job.Inputs, job.AllocateOutput);
            PipelineTrace.End(PipelineTrace.Kind.Run, traced, job.Request, Thread.CurrentThread == _thread ? 1 : 0, rows);
            if (timed)
            {
                Costs.Record(rows, Native.Libc.ThreadCpuSeconds() - started);
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            _communicator.End();
            lock (_jobs)
            {
                _running = false;
                // The model's thread may wait for the session with runs queued behind this one.
                if (_jobs.Count != 0)
                {
                    Monitor.Pulse(_jobs);
                }
            }
        }

        return failure;
    }

    private static void Complete(Job job, IReadOnlyDictionary<string, Tensor>? outputs, Exception? failure)
    {
        if (failure is null)
        {
            job.Completion.SetResult(outputs!);
        }
        else
        {
            job.Completion.SetException(failure);
        }
    }

    /// <summary>The next queued run once the session is free, waiting for both; null once the model is disposed and its queue is empty.</summary>
    private Job? NextJob()
    {
        lock (_jobs)
        {
            while (_jobs.Count == 0 || _running)
            {
                if (_closed && _jobs.Count == 0)
                {
                    return null;
                }

                Monitor.Wait(_jobs);
            }

            _running = true;
            return _jobs.Dequeue();
        }
    }

    public void Dispose()
    {
        lock (_jobs)
        {
            _closed = true;
            Monitor.PulseAll(_jobs);
        }
    }

    private sealed record Job(IReadOnlyDictionary<string, Tensor> Inputs, GroupRun? Group, Func<DataType, int[], Tensor> AllocateOutput, TaskCompletionSource<IReadOnlyDictionary<string, Tensor>> Completion, ulong Request);
}
