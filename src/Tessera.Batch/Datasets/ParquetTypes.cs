using Tessera.Tensors;

namespace Tessera.Batch.Datasets;

/// <summary>The element types a Parquet column and a tensor both hold, by their CLR type.</summary>
internal static class ParquetTypes
{
    private static readonly Dictionary<Type, DataType> s_byClr = new()
    {
        [typeof(float)] = DataType.Float32,
        [typeof(double)] = DataType.Float64,
        [typeof(int)] = DataType.Int32,
        [typeof(long)] = DataType.Int64,
        [typeof(short)] = DataType.Int16,
        [typeof(sbyte)] = DataType.Int8,
        [typeof(byte)] = DataType.UInt8,
        [typeof(ushort)] = DataType.UInt16,
        [typeof(uint)] = DataType.UInt32,
        [typeof(ulong)] = DataType.UInt64,
        [typeof(bool)] = DataType.Bool,
    };

    public static DataType? FromClr(Type type) => s_byClr.TryGetValue(type, out var t) ? t : null;

    public static Type? ToClr(DataType type) => s_byClr.FirstOrDefault(kv => kv.Value == type).Key;
}
