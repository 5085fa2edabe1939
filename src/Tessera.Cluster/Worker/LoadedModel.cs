using System.Collections.Concurrent;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cluster.Worker;

/// <summary>
/// A model loaded on the worker: its session and one dedicated thread that runs requests in arrival order, so
/// the connection loops never block on compute and micro-batches queue up behind each other.
/// </summary>
internal sealed class LoadedModel : IDisposable
{
    private readonly BlockingCollection<Job> _jobs = new();
    private readonly Thread _thread;

    public LoadedModel(string hash, InferenceSession session, long bytes)
    {
        Hash = hash;
        Session = session;
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

    /// <summary>Queues a run; the task completes on the model's thread (continuations run asynchronously).</summary>
    public Task<IReadOnlyDictionary<string, Tensor>> RunAsync(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var job = new Job(inputs, new TaskCompletionSource<IReadOnlyDictionary<string, Tensor>>(TaskCreationOptions.RunContinuationsAsynchronously));
        _jobs.Add(job);
        return job.Completion.Task;
    }

    private void RunJobs()
    {
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            try
            {
                job.Completion.SetResult(Session.Run(job.Inputs));
            }
            catch (Exception e)
            {
                job.Completion.SetException(e);
            }
        }
    }

    public void Dispose() => _jobs.CompleteAdding();

    private sealed record Job(IReadOnlyDictionary<string, Tensor> Inputs, TaskCompletionSource<IReadOnlyDictionary<string, Tensor>> Completion);
}
