namespace Tessera.Tensors;

/// <summary>Facts about each <see cref="DataType"/>: size, CLR type, spelling in ONNX, NumPy and KServe.</summary>
public static class DataTypes
{
    /// <summary>Bytes per element; 0 for strings (stored as managed strings) and unsupported types.</summary>
    public static int SizeOf(DataType type) => type switch
    {
        DataType.Float32 or DataType.Int32 or DataType.UInt32 => 4,
        DataType.Float64 or DataType.Int64 or DataType.UInt64 => 8,
        DataType.Float16 or DataType.BFloat16 or DataType.Int16 or DataType.UInt16 => 2,
        DataType.Int8 or DataType.UInt8 or DataType.Bool => 1,
        _ => 0,
    };

    /// <summary>True for the types Tessera stores and computes with.</summary>
    public static bool IsSupported(DataType type) => type switch
    {
        DataType.Float32 or DataType.Float64 or DataType.Float16 or DataType.BFloat16 or
        DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8 or
        DataType.UInt64 or DataType.UInt32 or DataType.UInt16 or DataType.UInt8 or
        DataType.Bool or DataType.String => true,
        _ => false,
    };

    public static bool IsFloatingPoint(DataType type) =>
        type is DataType.Float32 or DataType.Float64 or DataType.Float16 or DataType.BFloat16;

    public static bool IsSignedInteger(DataType type) =>
        type is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64;

    public static bool IsUnsignedInteger(DataType type) =>
        type is DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64;

    /// <summary>The CLR element type; bool is stored as one byte holding 0 or 1.</summary>
    public static Type ClrType(DataType type) => type switch
    {
        DataType.Float32 => typeof(float),
        DataType.Float64 => typeof(double),
        DataType.Float16 => typeof(Half),
        DataType.BFloat16 => typeof(BFloat16),
        DataType.Int64 => typeof(long),
        DataType.Int32 => typeof(int),
        DataType.Int16 => typeof(short),
        DataType.Int8 => typeof(sbyte),
        DataType.UInt64 => typeof(ulong),
        DataType.UInt32 => typeof(uint),
        DataType.UInt16 => typeof(ushort),
        DataType.UInt8 => typeof(byte),
        DataType.Bool => typeof(bool),
        DataType.String => typeof(string),
        _ => throw new NotSupportedException($"data type {type} is not supported"),
    };

    public static DataType FromClrType(Type type) =>
        type == typeof(float) ? DataType.Float32 :
        type == typeof(double) ? DataType.Float64 :
        type == typeof(Half) ? DataType.Float16 :
        type == typeof(BFloat16) ? DataType.BFloat16 :
        type == typeof(long) ? DataType.Int64 :
        type == typeof(int) ? DataType.Int32 :
        type == typeof(short) ? DataType.Int16 :
        type == typeof(sbyte) ? DataType.Int8 :
        type == typeof(ulong) ? DataType.UInt64 :
        type == typeof(uint) ? DataType.UInt32 :
        type == typeof(ushort) ? DataType.UInt16 :
        type == typeof(byte) ? DataType.UInt8 :
        type == typeof(bool) ? DataType.Bool :
        type == typeof(string) ? DataType.String :
        throw new NotSupportedException($"CLR type {type.Name} has no tensor data type");

    /// <summary>Lower-case name used in CLI output and error messages (float32, int64, ...).</summary>
    public static string Name(DataType type) => type switch
    {
        DataType.Float32 => "float32",
        DataType.Float64 => "float64",
        DataType.Float16 => "float16",
        DataType.BFloat16 => "bfloat16",
        DataType.Int64 => "int64",
        DataType.Int32 => "int32",
        DataType.Int16 => "int16",
        DataType.Int8 => "int8",
        DataType.UInt64 => "uint64",
        DataType.UInt32 => "uint32",
        DataType.UInt16 => "uint16",
        DataType.UInt8 => "uint8",
        DataType.Bool => "bool",
        DataType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };
}
