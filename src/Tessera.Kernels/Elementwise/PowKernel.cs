using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Pow with broadcasting; the base and exponent element types may differ (opset 12+), the result has the base's.</summary>
internal sealed class PowKernel(KernelInfo info) : IKernel
{
    private readonly LegacyBroadcast? _legacy = LegacyBroadcast.For(info);
    private readonly BroadcastCache _broadcast = new();

    public void Compute(KernelContext context)
    {
        var a = context.RequiredInput(0);
        var b = context.RequiredInput(1);
        if (_legacy is not null)
        {
            b = _legacy.Align("Pow", a, b);
        }

        int[] shape = _broadcast.OutputShape("Pow", a.Shape, b.Shape);
        var output = context.AllocateOutput(0, a.DataType, shape);
        b = BFloat16Widening.ToFloatIfBFloat16(b)!;
        if (a.DataType == DataType.BFloat16)
        {
            var wide = Tensor.Allocate(DataType.Float32, shape);
            Run(BFloat16Widening.ToFloat(a), b, wide, context.Parallel);
            BFloat16Widening.Narrow(wide, output);
            return;
        }

        Run(a, b, output, context.Parallel);
    }

    private static void Run(Tensor a, Tensor b, Tensor output, ParallelRunner parallel)
    {
        if (!TypeDispatch.Numeric(a.DataType, new BaseAction(a, b, output, parallel)))
        {
            throw ElementTypes.Unsupported("Pow", a.DataType);
        }
    }

    private readonly struct BaseAction(Tensor a, Tensor b, Tensor output, ParallelRunner parallel) : INumericTypeAction
    {
        public void Invoke<TB>() where TB : unmanaged, INumber<TB>
        {
            if (!TypeDispatch.Numeric(b.DataType, new ExponentAction<TB>(a, b, output, parallel)))
            {
                throw new KernelException($"Pow does not support exponent type {DataTypes.Name(b.DataType)}");
            }
        }
    }

    private readonly struct ExponentAction<TB>(Tensor a, Tensor b, Tensor output, ParallelRunner parallel) : INumericTypeAction
        where TB : unmanaged, INumber<TB>
    {
        public void Invoke<TE>() where TE : unmanaged, INumber<TE> =>
            BinaryDriver.Run<TB, TE, TB, PowOperator<TB, TE>>(default, a, b, output, parallel, UnaryDriver.CostlyChunk);
    }
}
