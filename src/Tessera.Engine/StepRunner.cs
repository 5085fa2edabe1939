using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>Computes one step and turns whatever a kernel throws into a one-line error naming the node.</summary>
internal static class StepRunner
{
    /// <summary>Computes <paramref name="step"/> once on fresh storage (constant folding) and returns its outputs.</summary>
    public static Tensor?[] Run(ExecutionStep step, Tensor?[] inputs, ParallelRunner parallel)
    {
        var context = new KernelContext(inputs, step.OutputSlots.Length, step.OutputRequested, parallel);
        Compute(step, context);
        var outputs = new Tensor?[step.OutputSlots.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = context.Output(i);
        }

        return outputs;
    }

    /// <summary>Computes <paramref name="step"/> into <paramref name="context"/>, whose inputs are already set.</summary>
    public static void Compute(ExecutionStep step, KernelContext context)
    {
        context.ClearOutputs();
        try
        {
            step.Kernel.Compute(context);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not InferenceException)
        {
            string what = e is KernelException or ArgumentException or NotSupportedException or InvalidOperationException
                ? e.Message
                : $"internal error ({e.GetType().Name}: {e.Message})";
            throw new InferenceException($"node '{step.Node.DisplayName}' ({step.Node.OpType}): {what}", e);
        }

        for (int i = 0; i < step.OutputRequested.Length; i++)
        {
            if (step.OutputRequested[i] && context.Output(i) is null)
            {
                throw new InferenceException($"node '{step.Node.DisplayName}' ({step.Node.OpType}) did not produce output {i}");
            }
        }
    }
}
