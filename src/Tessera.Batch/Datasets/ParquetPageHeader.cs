namespace Tessera.Batch.Datasets;

/// <summary>
/// A page header (parquet.thrift's PageHeader) as Parquet.Net 6.1 reads it: an absent number is 0, an absent
/// is_compressed true. <see cref="Values"/> is the value count of the header the page's type uses (its data,
/// dictionary or v2 header), -1 if that header is missing; <see cref="LevelBytes"/> the v2 header's level lengths
/// (-1 if one is negative), whose bytes precede the compressed data.
/// </summary>
internal readonly record struct ParquetPageHeader(int Length, long Type, long UncompressedSize, long CompressedSize, long Values, long Encoding, long LevelBytes, bool IsCompressed)
{
    public const long DataPage = 0;
    public const long DictionaryPage = 2;
    public const long DataPageV2 = 3;

    /// <summary>The header at the start of <paramref name="bytes"/>, or null if it is malformed or does not end within them.</summary>
    public static ParquetPageHeader? Read(ReadOnlySpan<byte> bytes)
    {
        Span<long> v = stackalloc long[PageValue.Count];
        v.Fill(long.MinValue);
        int at = 0;
        if (!ParquetThriftWalk.Struct(bytes, ref at, ParquetThrift.PageHeader, v)) return null;

        long type = Or0(v[PageValue.Type]);
        var (present, values, encoding) = type switch
        {
            DataPage => (v[PageValue.HasDataHeader], v[PageValue.DataValues], v[PageValue.DataEncoding]),
            DictionaryPage => (v[PageValue.HasDictionaryHeader], v[PageValue.DictionaryValues], 0),
            DataPageV2 => (v[PageValue.HasV2Header], v[PageValue.V2Values], v[PageValue.V2Encoding]),
            _ => (long.MinValue, 0, 0),
        };
        long definitions = Or0(v[PageValue.V2DefinitionBytes]), repetitions = Or0(v[PageValue.V2RepetitionBytes]);
        long levels = type != DataPageV2 ? 0 : definitions < 0 || repetitions < 0 ? -1 : definitions + repetitions;
        return new ParquetPageHeader(
            at, type, Or0(v[PageValue.UncompressedSize]), Or0(v[PageValue.CompressedSize]), present == long.MinValue ? -1 : Or0(values),
            Or0(encoding), levels, v[PageValue.V2IsCompressed] != 0);
    }

    private static long Or0(long value) => value == long.MinValue ? 0 : value;
}
