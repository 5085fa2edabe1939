using Tessera.Kernels.Core;

namespace Tessera.Kernels.Collective;

/// <summary>com.tessera AllReduce: the element-wise sum of the input over all ranks (same shape in and out).</summary>
internal sealed class AllReduceKernel(ICollectiveCommunicator communicator, string key) : IKernel
{
    public static IKernel Create(KernelInfo info)
    {
        var (communicator, key) = CollectiveKernels.Bind(info);
        return new AllReduceKernel(communicator, key);
    }

    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0);
        if (!CollectiveSum.IsSupported(input.DataType))
        {
            throw new KernelException($"AllReduce '{key}' sums float32, float16 or float64 tensors, not {input}");
        }

        var output = context.AllocateOutput(0, input.DataType, input.Shape);
        input.Bytes.CopyTo(output.Bytes);
        communicator.AllReduceSum(key, input.DataType, output.Bytes);
    }
}
