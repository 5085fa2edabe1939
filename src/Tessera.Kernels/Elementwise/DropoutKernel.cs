using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Dropout. In inference (the default) the output is the input and the optional mask is all true. From opset 12
/// ratio and training_mode are inputs; in training mode elements are kept with probability 1 - ratio and scaled by
/// 1 / (1 - ratio), drawing from a Mersenne Twister seeded by the seed attribute (NumPy-compatible) or at random.
/// The mask is bool from opset 10 and the input's type before.
/// </summary>
internal sealed class DropoutKernel : IKernel
{
    private readonly int _opset;
    private readonly float _ratioAttribute;
    private readonly long? _seed;

    public DropoutKernel(KernelInfo info)
    {
        _opset = info.OpsetVersion;
        _ratioAttribute = info.GetFloat("ratio", 0.5f);
        _seed = info.HasAttribute("seed") ? info.GetInt("seed", 0) : null;
    }

    public void Compute(KernelContext context)
    {
        var x = context.RequiredInput(0);
        double ratio = _ratioAttribute;
        bool training = false;
        if (_opset >= 12)
        {
            if (context.Input(1) is { } r)
            {
                ratio = ReadScalar(r, "ratio");
            }

            if (context.Input(2) is { } t)
            {
                training = ReadScalar(t, "training_mode") != 0;
            }
        }

        bool wantMask = context.OutputCount > 1 && context.IsOutputRequested(1);
        if (!training || ratio == 0)
        {
            context.SetOutput(0, x);
            if (wantMask)
            {
                FillOnes(context.AllocateOutput(1, MaskType(x), x.Shape));
            }

            return;
        }

        if (!(ratio >= 0 && ratio < 1))
        {
            throw new KernelException($"Dropout: ratio must be in [0, 1), got {ratio}");
        }

        var keep = new byte[x.Length];
        var random = new Mt19937(_seed is long s ? unchecked((uint)s) : (uint)Random.Shared.NextInt64(0, 1L << 32));
        for (int i = 0; i < keep.Length; i++) keep[i] = random.NextDouble() >= ratio ? (byte)1 : (byte)0;

        var y = context.AllocateOutput(0, x.DataType, x.Shape);
        var source = x.DataType == DataType.BFloat16 ? BFloat16Widening.ToFloat(x) : x;
        var target = x.DataType == DataType.BFloat16 ? Tensor.Allocate(DataType.Float32, x.Shape) : y;
        if (!TypeDispatch.Float(source.DataType, new ApplyMask(source, target, keep, 1 / (1 - ratio))))
        {
            throw ElementTypes.Unsupported("Dropout", x.DataType);
        }

        if (x.DataType == DataType.BFloat16)
        {
            BFloat16Widening.Narrow(target, y);
        }

        if (wantMask)
        {
            keep.CopyTo(context.AllocateOutput(1, DataType.Bool, x.Shape).Span<byte>());
        }
    }

    private DataType MaskType(Tensor x) => _opset >= 10 ? DataType.Bool : x.DataType;

    private static double ReadScalar(Tensor t, string role)
    {
        if (t.Length != 1)
        {
            throw new KernelException($"Dropout: {role} must be a scalar, got {t}");
        }

        return t.DataType switch
        {
            DataType.Bool => t.Span<byte>()[0],
            DataType.Float32 => t.Span<float>()[0],
            DataType.Float64 => t.Span<double>()[0],
            DataType.Float16 => (double)t.Span<Half>()[0],
            DataType.BFloat16 => t.Span<BFloat16>()[0].ToSingle(),
            _ => throw new KernelException($"Dropout: {role} has unsupported type {DataTypes.Name(t.DataType)}"),
        };
    }

    private static void FillOnes(Tensor mask)
    {
        if (mask.DataType is DataType.Bool)
        {
            mask.Span<byte>().Fill(1);
        }
        else if (mask.DataType is DataType.BFloat16)
        {
            mask.Span<BFloat16>().Fill(BFloat16.FromSingle(1f));
        }
        else if (!TypeDispatch.Numeric(mask.DataType, new FillOne(mask)))
        {
            throw ElementTypes.Unsupported("Dropout", mask.DataType);
        }
    }

    private readonly struct FillOne(Tensor mask) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T> => mask.Span<T>().Fill(T.One);
    }

    private readonly struct ApplyMask(Tensor x, Tensor y, byte[] keep, double scale) : IFloatTypeAction
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var source = x.Span<T>();
            var destination = y.Span<T>();
            T factor = T.CreateTruncating(scale);
            for (int i = 0; i < destination.Length; i++) destination[i] = keep[i] != 0 ? source[i] * factor : T.Zero;
        }
    }
}
