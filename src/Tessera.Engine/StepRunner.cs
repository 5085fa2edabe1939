using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Engine;

/// <summary>Computes one step and turns whatever a kernel throws into a one-line error naming the node.</summary>
internal static class StepRunner
{
    public static Tensor?[] Run(ExecutionStep step, Tensor?[] inputs, ParallelRunner parallel)
    {
        var context = new KernelContext(inputs, step.OutputSlots.Length, step.OutputRequested, parallel);
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

        var outputs = new Tensor?[step.OutputSlots.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = context.Output(i);
            if (outputs[i] is null && step.OutputRequested[i])
            {
                throw new InferenceException($"node '{step.Node.DisplayName}' ({step.Node.OpType}) did not produce output {i}");
            }
        }

        return outputs;
    }
}
