using System.Collections.Concurrent;
using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Serving.Backends;

/// <summary>
/// One session and the thread that runs it. Session runs are synchronous and long; a dedicated thread keeps them
/// off the thread pool that serves HTTP.
/// </summary>
internal sealed class ReplicaThread : IDisposable
{
    private readonly InferenceSession _session;
    private readonly BlockingCollection<WorkItem> _work = new();
    private readonly Thread _thread;

    public ReplicaThread(InferenceSession session, string name)
    {
        _session = session;
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public int Waiting => _work.Count;

    public Task<IReadOnlyDictionary<string, Tensor>> Enqueue(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        var item = new WorkItem(inputs, cancellationToken);
        _work.Add(item);
        return item.Completion.Task;
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
        _work.Dispose();
    }

    private void Loop()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            if (item.CancellationToken.IsCancellationRequested)
            {
                item.Completion.TrySetCanceled(item.CancellationToken);
                continue;
            }

            try
            {
                item.Completion.TrySetResult(_session.Run(item.Inputs));
            }
            catch (Exception e)
            {
                item.Completion.TrySetException(e);
            }
        }
    }

    private sealed class WorkItem(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        public IReadOnlyDictionary<string, Tensor> Inputs { get; } = inputs;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TaskCompletionSource<IReadOnlyDictionary<string, Tensor>> Completion { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
