using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Layout;

/// <summary>Size-1/13: the input's element count as an int64 scalar.</summary>
internal sealed class SizeKernel : IKernel
{
    public static IKernel Create(KernelInfo info) => new SizeKernel();

    public void Compute(KernelContext context)
    {
        var data = context.RequiredInput(0, "data");
        context.AllocateOutput(0, DataType.Int64, []).Span<long>()[0] = data.Length;
    }
}
