using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;

namespace Tessera.Engine;

/// <summary>One node of the execution order: its kernel and the slots of its input and output values.</summary>
internal sealed class ExecutionStep(OnnxNode node, IKernel kernel, int[] inputSlots, int[] outputSlots, bool[] outputRequested)
{
    public OnnxNode Node { get; } = node;

    public IKernel Kernel { get; } = kernel;

    /// <summary>Value slot per input; -1 for an omitted optional input.</summary>
    public int[] InputSlots { get; } = inputSlots;

    /// <summary>Value slot per output; -1 for an omitted optional output.</summary>
    public int[] OutputSlots { get; } = outputSlots;

    public bool[] OutputRequested { get; } = outputRequested;

    /// <summary>Slots whose last reader is this step and that hold no graph output or constant: released after it runs.</summary>
    public int[] ReleaseAfter { get; set; } = [];
}
