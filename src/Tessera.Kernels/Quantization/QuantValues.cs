using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Quantization;

/// <summary>Reads quantization parameters (scales, zero points) of any type the operators accept as plain arrays.</summary>
internal static class QuantValues
{
    public static float[] Floats(Tensor t, string role)
    {
        var values = new float[t.Length];
        switch (t.DataType)
        {
            case DataType.Float32:
                t.Span<float>().CopyTo(values);
                break;
            case DataType.Float16:
                for (int i = 0; i < values.Length; i++) values[i] = (float)t.Span<Half>()[i];
                break;
            case DataType.BFloat16:
                for (int i = 0; i < values.Length; i++) values[i] = t.Span<BFloat16>()[i].ToSingle();
                break;
            default:
                throw new KernelException($"{role} must be float32, float16 or bfloat16, got {DataTypes.Name(t.DataType)}");
        }

        return values;
    }

    public static int[] Ints(Tensor t, string role)
    {
        var values = new int[t.Length];
        switch (t.DataType)
        {
            case DataType.UInt8:
                for (int i = 0; i < values.Length; i++) values[i] = t.Span<byte>()[i];
                break;
            case DataType.Int8:
                for (int i = 0; i < values.Length; i++) values[i] = t.Span<sbyte>()[i];
                break;
            case DataType.Int32:
                t.Span<int>().CopyTo(values);
                break;
            default:
                throw new KernelException($"{role} must be uint8, int8 or int32, got {DataTypes.Name(t.DataType)}");
        }

        return values;
    }

    /// <summary>One zero point for the whole tensor (the integer products take per-tensor activations).</summary>
    public static int Scalar(Tensor? zeroPoint, string role)
    {
        if (zeroPoint is null) return 0;
        if (zeroPoint.Length != 1) throw new KernelException($"{role} must be a scalar, got {ShapeMath.Format(zeroPoint.Shape)}");
        return Ints(zeroPoint, role)[0];
    }

    /// <summary>A per-tensor value (1 element) repeated, or one value per column.</summary>
    public static T[] PerColumn<T>(T[] values, int columns, string role)
    {
        if (values.Length == columns) return values;
        if (values.Length != 1) throw new KernelException($"{role} has {values.Length} values for {columns} columns");
        var expanded = new T[columns];
        Array.Fill(expanded, values[0]);
        return expanded;
    }

    public static (int Min, int Max) Range(DataType type) => type switch
    {
        DataType.UInt8 => (0, 255),
        DataType.Int8 => (-128, 127),
        _ => throw new KernelException($"quantized type must be uint8 or int8, got {DataTypes.Name(type)}"),
    };
}
