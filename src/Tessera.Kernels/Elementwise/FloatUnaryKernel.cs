using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>A unary operator on floating-point tensors (float, double, float16; bfloat16 through float).</summary>
internal sealed class FloatUnaryKernel<TOp>(string opType, TOp op, int minChunk = UnaryDriver.CheapChunk) : IKernel
    where TOp : struct, IFloatUnaryOperator
{
    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0);
        var y = context.AllocateOutput(0, x.DataType, x.Shape);
        if (x.DataType == DataType.BFloat16)
        {
            var wide = Tensor.Allocate(DataType.Float32, x.Shape);
            TypeDispatch.Float(DataType.Float32, new Action(op, BFloat16Widening.ToFloat(x), wide, context.Parallel, minChunk));
            BFloat16Widening.Narrow(wide, y);
            return;
        }

        if (!TypeDispatch.Float(x.DataType, new Action(op, x, y, context.Parallel, minChunk)))
        {
            throw ElementTypes.Unsupported(opType, x.DataType);
        }
    }

    private readonly struct Action(TOp op, Tensor x, Tensor y, ParallelRunner parallel, int minChunk) : IFloatTypeAction
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            UnaryDriver.Run<T, T, FloatUnary<T, TOp>>(new FloatUnary<T, TOp>(op), x, y, parallel, minChunk);
    }
}
