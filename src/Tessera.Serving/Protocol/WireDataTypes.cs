using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>The datatype names of the KServe v2 protocol (BOOL, UINT8 … FP64, BYTES) and Tessera's element types.</summary>
internal static class WireDataTypes
{
    public static string Name(DataType type) => type switch
    {
        DataType.Bool => "BOOL",
        DataType.UInt8 => "UINT8",
        DataType.UInt16 => "UINT16",
        DataType.UInt32 => "UINT32",
        DataType.UInt64 => "UINT64",
        DataType.Int8 => "INT8",
        DataType.Int16 => "INT16",
        DataType.Int32 => "INT32",
        DataType.Int64 => "INT64",
        DataType.Float16 => "FP16",
        DataType.BFloat16 => "BF16",
        DataType.Float32 => "FP32",
        DataType.Float64 => "FP64",
        DataType.String => "BYTES",
        _ => DataTypes.Name(type).ToUpperInvariant(),
    };

    public static bool TryParse(ReadOnlySpan<char> name, out DataType type)
    {
        type = name switch
        {
            "BOOL" => DataType.Bool,
            "UINT8" => DataType.UInt8,
            "UINT16" => DataType.UInt16,
            "UINT32" => DataType.UInt32,
            "UINT64" => DataType.UInt64,
            "INT8" => DataType.Int8,
            "INT16" => DataType.Int16,
            "INT32" => DataType.Int32,
            "INT64" => DataType.Int64,
            "FP16" => DataType.Float16,
            "BF16" => DataType.BFloat16,
            "FP32" => DataType.Float32,
            "FP64" => DataType.Float64,
            "BYTES" => DataType.String,
            _ => DataType.Undefined,
        };
        return type != DataType.Undefined;
    }
}
