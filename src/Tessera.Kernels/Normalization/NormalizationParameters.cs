using Tessera.Kernels.Core;
using Tessera.Kernels.Pooling;
using Tessera.Tensors;

namespace Tessera.Kernels.Normalization;

/// <summary>Brings scale/bias style parameters into the element type and layout a kernel's inner loop wants.</summary>
internal static class NormalizationParameters
{
    /// <summary>
    /// The parameter as a tensor of <paramref name="type"/> holding exactly the elements of <paramref name="target"/>
    /// (numpy-broadcast from its own shape); the tensor itself when it already is one.
    /// </summary>
    public static Tensor Expand(Tensor parameter, DataType type, ReadOnlySpan<int> target, string what)
    {
        int count = ShapeMath.ElementCount(target);
        if (parameter.DataType == type && parameter.Length == count && EndsWith(target, parameter.Shape))
        {
            return parameter;
        }

        int[] shape = parameter.Shape;
        int[] broadcast;
        try
        {
            broadcast = ShapeMath.Broadcast(shape, target);
        }
        catch (ArgumentException)
        {
            throw new KernelException($"{what} of shape {ShapeMath.Format(shape)} does not broadcast to {ShapeMath.Format(target)}");
        }

        if (ShapeMath.ElementCount(broadcast) != count)
        {
            throw new KernelException($"{what} of shape {ShapeMath.Format(shape)} does not broadcast to {ShapeMath.Format(target)}");
        }

        // Per target dimension, the parameter's stride (0 where it broadcasts).
        int rank = target.Length;
        var strides = new int[rank];
        int[] own = ShapeMath.Strides(shape);
        for (int i = 0; i < rank; i++)
        {
            int j = i - (rank - shape.Length);
            strides[i] = j >= 0 && shape[j] != 1 ? own[j] : 0;
        }

        float[]? single = type == DataType.Float64 ? null : HalfBridge.ReadAsSingle(parameter);
        double[]? wide = type == DataType.Float64 ? HalfBridge.ReadAsDouble(parameter) : null;
        var result = Tensor.Allocate(type, target);
        var index = new int[rank];
        for (int e = 0; e < count; e++)
        {
            int source = 0;
            for (int i = 0; i < rank; i++)
            {
                source += index[i] * strides[i];
            }

            switch (type)
            {
                case DataType.Float64: result.Span<double>()[e] = wide![source]; break;
                case DataType.Float16: result.Span<Half>()[e] = (Half)single![source]; break;
                default: result.Span<float>()[e] = single![source]; break;
            }

            for (int i = rank - 1; i >= 0 && ++index[i] == target[i]; i--)
            {
                index[i] = 0;
            }
        }

        return result;
    }

    /// <summary>A floating-point parameter's values as <typeparamref name="T"/> (float or double).</summary>
    public static T[] Read<T>(Tensor parameter)
        where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            return (T[])(object)HalfBridge.ReadAsDouble(parameter);
        }

        return (T[])(object)HalfBridge.ReadAsSingle(parameter);
    }

    private static bool EndsWith(ReadOnlySpan<int> target, ReadOnlySpan<int> shape)
    {
        // A same-size parameter whose shape is the target's (possibly with leading 1s dropped or added) needs no copy.
        int i = target.Length - 1, j = shape.Length - 1;
        for (; i >= 0 && j >= 0; i--, j--)
        {
            if (target[i] != shape[j])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Float32 for float32/float16, float64 for float64; throws for other types.</summary>
    public static DataType ComputeType(DataType type, string opType) => type switch
    {
        DataType.Float32 or DataType.Float16 => DataType.Float32,
        DataType.Float64 => DataType.Float64,
        _ => throw new KernelException($"{opType} does not support {DataTypes.Name(type)} input"),
    };
}
