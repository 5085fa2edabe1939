using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Not: element-wise logical negation of a bool tensor.</summary>
internal sealed class NotKernel : IKernel
{
    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0);
        if (x.DataType != DataType.Bool)
        {
            throw new KernelException($"Not needs a bool input, got {DataTypes.Name(x.DataType)}");
        }

        var y = context.AllocateOutput(0, DataType.Bool, x.Shape);
        UnaryDriver.Run<byte, byte, NotOperator>(default, x, y, context.Parallel);
    }
}
