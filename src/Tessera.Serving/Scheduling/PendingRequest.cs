using System.Diagnostics;
using Tessera.Tensors;

namespace Tessera.Serving.Scheduling;

/// <summary>A validated request waiting in a model's queue, and the task its HTTP handler awaits.</summary>
internal sealed class PendingRequest
{
    public PendingRequest(IReadOnlyDictionary<string, Tensor> inputs, int rows, int level)
    {
        Inputs = inputs;
        Rows = rows;
        Level = level;
    }

    public IReadOnlyDictionary<string, Tensor> Inputs { get; }

    /// <summary>Size of the leading (batch) dimension, or 1 when the model is not batched.</summary>
    public int Rows { get; }

    /// <summary>Priority level, 0 the highest.</summary>
    public int Level { get; }

    public long EnqueuedTimestamp { get; set; } = Stopwatch.GetTimestamp();

    /// <summary>The request's span, parent of its queue and batch spans; default when it is not traced.</summary>
    public ActivityContext Trace { get; init; }

    /// <summary>Queued, taken into a batch, or abandoned; changed only under the scheduler's lock.</summary>
    public PendingState State { get; set; }

    public TaskCompletionSource<IReadOnlyDictionary<string, Tensor>> Completion { get; } =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
}
