using System.Collections.Concurrent;
using Tessera.Cluster.Collective;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// A model loaded on the worker: its session and one dedicated thread that runs requests in arrival order, so
/// the connection loops never block on compute and micro-batches queue up behind each other. A tensor-parallel
/// shard's run carries its group run, which the thread hands to the model's communicator for that run only; the
/// ranks of a group see their runs in the same order because rank 0 relays each RUN to the others under
/// <see cref="RelayGate"/> before queueing its own.
/// </summary>
internal sealed class LoadedModel : IDisposable
{
    private readonly BlockingCollection<Job> _jobs = new();
    private readonly Thread _thread;

    private readonly NetworkCommunicator _communicator;
    private readonly Func<DataType, int[], Tensor> _allocateOutput;

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

    /// <summary>Queues a run; the task completes on the model's thread (continuations run asynchronously).</summary>
    public Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs, GroupRun? group = null)
    {
        var job = new Job(inputs, group, new TaskCompletionSource<IReadOnlyDictionary<string, Tensor>>(TaskCreationOptions.RunContinuationsAsynchronously));
        _jobs.Add(job);
        return job.Completion.Task;
    }

    private void RunJobs()
    {
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            _communicator.Begin(job.Group);
            try
            {
                double started = Native.Libc.ThreadCpuSeconds();
                var outputs = Session.Run(job.Inputs, _allocateOutput);
                Costs.Record(RunCosts.RowsOf(InputNames.Select(n => job.Inputs[n])), Native.Libc.ThreadCpuSeconds() - started);
                job.Completion.SetResult(outputs);
            }
            catch (Exception e)
            {
                job.Completion.SetException(e);
            }
            finally
            {
                _communicator.End();
            }
        }
    }

    public void Dispose() => _jobs.CompleteAdding();

    private sealed record Job(IReadOnlyDictionary<string, Tensor> Inputs, GroupRun? Group, TaskCompletionSource<IReadOnlyDictionary<string, Tensor>> Completion);
}
