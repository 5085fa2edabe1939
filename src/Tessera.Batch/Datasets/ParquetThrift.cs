namespace Tessera.Batch.Datasets;

/// <summary>
/// The structures of a Parquet footer and page header (parquet.thrift, format 2.11) as <see cref="ParquetThriftWalk"/>
/// needs them: each field's compact-protocol type by id, a list's element type, a struct's or union's own fields, and
/// for the page header the slots of <see cref="PageValue"/> its values are captured in.
/// </summary>
internal static class ParquetThrift
{
    public const int Bool = 1;
    private const int I8 = 3;
    private const int I16 = 4;
    private const int I32 = 5;
    private const int I64 = 6;
    private const int Binary = 8;
    private const int ListType = 9;
    private const int StructType = 12;

    private static readonly Dictionary<int, Field> s_empty = [];

    private static readonly Dictionary<int, Field> s_keyValue = new() { [1] = new(Binary), [2] = new(Binary) };

    private static readonly Dictionary<int, Field> s_statistics = new()
    {
        [1] = new(Binary), [2] = new(Binary), [3] = new(I64), [4] = new(I64), [5] = new(Binary), [6] = new(Binary), [7] = new(Bool), [8] = new(Bool),
    };

    private static readonly Dictionary<int, Field> s_timeUnit = new() { [1] = Struct(s_empty), [2] = Struct(s_empty), [3] = Struct(s_empty) };

    private static readonly Dictionary<int, Field> s_time = new() { [1] = new(Bool), [2] = Struct(s_timeUnit) };

    private static readonly Dictionary<int, Field> s_logicalType = new()
    {
        [1] = Struct(s_empty), [2] = Struct(s_empty), [3] = Struct(s_empty), [4] = Struct(s_empty),
        [5] = Struct(new() { [1] = new(I32), [2] = new(I32) }), [6] = Struct(s_empty), [7] = Struct(s_time), [8] = Struct(s_time),
        [10] = Struct(new() { [1] = new(I8), [2] = new(Bool) }), [11] = Struct(s_empty), [12] = Struct(s_empty), [13] = Struct(s_empty),
        [14] = Struct(s_empty), [15] = Struct(s_empty), [16] = Struct(new() { [1] = new(I8) }),
        [17] = Struct(new() { [1] = new(Binary) }), [18] = Struct(new() { [1] = new(Binary), [2] = new(I32) }),
    };

    private static readonly Dictionary<int, Field> s_schemaElement = new()
    {
        [1] = new(I32), [2] = new(I32), [3] = new(I32), [4] = new(Binary), [5] = new(I32), [6] = new(I32), [7] = new(I32), [8] = new(I32),
        [9] = new(I32), [10] = Struct(s_logicalType),
    };

    private static readonly Dictionary<int, Field> s_columnMetaData = new()
    {
        [1] = new(I32), [2] = List(I32), [3] = List(Binary), [4] = new(I32), [5] = new(I64), [6] = new(I64), [7] = new(I64),
        [8] = List(StructType, s_keyValue), [9] = new(I64), [10] = new(I64), [11] = new(I64), [12] = Struct(s_statistics),
        [13] = List(StructType, new() { [1] = new(I32), [2] = new(I32), [3] = new(I32) }), [14] = new(I64), [15] = new(I32),
        [16] = Struct(new() { [1] = new(I64), [2] = List(I64), [3] = List(I64) }),
        [17] = Struct(new() { [1] = Struct(s_empty), [2] = List(I32) }), // a bounding box holds doubles: refused
    };

    private static readonly Dictionary<int, Field> s_columnChunk = new()
    {
        [1] = new(Binary), [2] = new(I64), [3] = Struct(s_columnMetaData), [4] = new(I64), [5] = new(I32), [6] = new(I64), [7] = new(I32),
        [8] = Struct(new() { [1] = Struct(s_empty), [2] = Struct(new() { [1] = List(Binary), [2] = new(Binary) }) }), [9] = new(Binary),
    };

    private static readonly Dictionary<int, Field> s_rowGroup = new()
    {
        [1] = List(StructType, s_columnChunk), [2] = new(I64), [3] = new(I64),
        [4] = List(StructType, new() { [1] = new(I32), [2] = new(Bool), [3] = new(Bool) }), [5] = new(I64), [6] = new(I64), [7] = new(I16),
    };

    private static readonly Dictionary<int, Field> s_aes = new() { [1] = new(Binary), [2] = new(Binary), [3] = new(Bool) };

    public static IReadOnlyDictionary<int, Field> FileMetaData { get; } = new Dictionary<int, Field>
    {
        [1] = new(I32), [2] = List(StructType, s_schemaElement), [3] = new(I64), [4] = List(StructType, s_rowGroup),
        [5] = List(StructType, s_keyValue), [6] = new(Binary), [7] = List(StructType, new() { [1] = Struct(s_empty) }),
        [8] = Struct(new() { [1] = Struct(s_aes), [2] = Struct(s_aes) }), [9] = new(Binary),
    };

    private static readonly Dictionary<int, Field> s_dataPageHeader = new()
    {
        [1] = new(I32, Capture: PageValue.DataValues), [2] = new(I32, Capture: PageValue.DataEncoding), [3] = new(I32), [4] = new(I32),
        [5] = Struct(s_statistics),
    };

    private static readonly Dictionary<int, Field> s_dictionaryPageHeader = new()
    {
        [1] = new(I32, Capture: PageValue.DictionaryValues), [2] = new(I32), [3] = new(Bool),
    };

    private static readonly Dictionary<int, Field> s_dataPageHeaderV2 = new()
    {
        [1] = new(I32, Capture: PageValue.V2Values), [2] = new(I32), [3] = new(I32), [4] = new(I32, Capture: PageValue.V2Encoding),
        [5] = new(I32, Capture: PageValue.V2DefinitionBytes), [6] = new(I32, Capture: PageValue.V2RepetitionBytes),
        [7] = new(Bool, Capture: PageValue.V2IsCompressed), [8] = Struct(s_statistics),
    };

    /// <summary>A page header; its values land in the slots of <see cref="PageValue"/>.</summary>
    public static IReadOnlyDictionary<int, Field> PageHeader { get; } = new Dictionary<int, Field>
    {
        [1] = new(I32, Capture: PageValue.Type), [2] = new(I32, Capture: PageValue.UncompressedSize), [3] = new(I32, Capture: PageValue.CompressedSize),
        [4] = new(I32), [5] = Struct(s_dataPageHeader, PageValue.HasDataHeader), [6] = Struct(s_empty),
        [7] = Struct(s_dictionaryPageHeader, PageValue.HasDictionaryHeader), [8] = Struct(s_dataPageHeaderV2, PageValue.HasV2Header),
    };

    private static Field Struct(Dictionary<int, Field> members, int capture = -1) => new(StructType, 0, members, capture);

    private static Field List(int element, Dictionary<int, Field>? members = null) => new(ListType, element, members);

    /// <summary>
    /// A field's compact type; for a list its elements' type; for a struct (or a list of them) its fields; the slot its
    /// value is captured in, if any.
    /// </summary>
    internal sealed record Field(int Type, int Element = 0, IReadOnlyDictionary<int, Field>? Members = null, int Capture = -1);
}
