using System.Globalization;
using Tessera.Tensors;

namespace Tessera.Onnx.Averaging;

/// <summary>Shapes, types and single elements as they appear in difference lines.</summary>
internal static class TensorText
{
    public static string Describe(Tensor t) => $"{DataTypes.Name(t.DataType)}{ShapeMath.Format(t.Shape)}";

    /// <summary>Index of the first element that differs, or -1 when the two tensors (same type and shape) are bit-identical.</summary>
    public static int FirstDifference(Tensor a, Tensor b)
    {
        if (a.DataType == DataType.String)
        {
            for (int i = 0; i < a.Length; i++) if (!string.Equals(a.Strings[i], b.Strings[i], StringComparison.Ordinal)) return i;
            return -1;
        }

        int common = a.Bytes.CommonPrefixLength(b.Bytes);
        return common == a.ByteLength ? -1 : common / a.ElementSize;
    }

    public static string Element(Tensor t, int i) => t.DataType switch
    {
        DataType.Int64 => t.Span<long>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.Int32 => t.Span<int>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.Int16 => t.Span<short>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.Int8 => t.Span<sbyte>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.UInt64 => t.Span<ulong>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.UInt32 => t.Span<uint>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.UInt16 => t.Span<ushort>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.UInt8 => t.Span<byte>()[i].ToString(CultureInfo.InvariantCulture),
        DataType.Bool => t.Span<byte>()[i] != 0 ? "true" : "false",
        DataType.String => $"'{t.Strings[i]}'",
        DataType.Float32 => t.Span<float>()[i].ToString("R", CultureInfo.InvariantCulture),
        DataType.Float64 => t.Span<double>()[i].ToString("R", CultureInfo.InvariantCulture),
        DataType.Float16 => ((float)t.Span<Half>()[i]).ToString("R", CultureInfo.InvariantCulture),
        DataType.BFloat16 => t.Span<BFloat16>()[i].ToString(),
        _ => "?",
    };
}
