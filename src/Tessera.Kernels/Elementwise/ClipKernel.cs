using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Clip: bounds are attributes (default ±float.MaxValue) before opset 11 and optional scalar inputs from 11 on.</summary>
internal sealed class ClipKernel : IKernel
{
    private readonly bool _boundsAreAttributes;
    private readonly float _minAttribute;
    private readonly float _maxAttribute;

    public ClipKernel(KernelInfo info)
    {
        _boundsAreAttributes = info.OpsetVersion < 11;
        _minAttribute = info.GetFloat("min", float.MinValue);
        _maxAttribute = info.GetFloat("max", float.MaxValue);
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0);
        var lower = _boundsAreAttributes ? null : Bound(context.Input(1), x, "min");
        var upper = _boundsAreAttributes ? null : Bound(context.Input(2), x, "max");
        var y = context.AllocateOutput(0, x.DataType, x.Shape);
        if (x.DataType == DataType.BFloat16)
        {
            var wide = Tensor.Allocate(DataType.Float32, x.Shape);
            TypeDispatch.Numeric(DataType.Float32, new Action(this, BFloat16Widening.ToFloat(x), BFloat16Widening.ToFloatIfBFloat16(lower),
                BFloat16Widening.ToFloatIfBFloat16(upper), wide, context.Parallel));
            BFloat16Widening.Narrow(wide, y);
            return;
        }

        if (!TypeDispatch.Numeric(x.DataType, new Action(this, x, lower, upper, y, context.Parallel)))
        {
            throw ElementTypes.Unsupported("Clip", x.DataType);
        }
    }

    private static Tensor? Bound(Tensor? bound, Tensor x, string role)
    {
        if (bound is null)
        {
            return null;
        }

        if (bound.Length != 1 || bound.DataType != x.DataType)
        {
            throw new KernelException($"Clip: {role} must be a single {DataTypes.Name(x.DataType)} value, got {bound}");
        }

        return bound;
    }

    private readonly struct Action(ClipKernel kernel, Tensor x, Tensor? lower, Tensor? upper, Tensor y, ParallelRunner parallel) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            T? lo = kernel._boundsAreAttributes ? T.CreateSaturating(kernel._minAttribute) : lower is null ? null : lower.Span<T>()[0];
            T? hi = kernel._boundsAreAttributes ? T.CreateSaturating(kernel._maxAttribute) : upper is null ? null : upper.Span<T>()[0];
            UnaryDriver.Run<T, T, ClipOperator<T>>(new ClipOperator<T>(lo, hi), x, y, parallel);
        }
    }
}
