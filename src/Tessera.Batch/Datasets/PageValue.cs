namespace Tessera.Batch.Datasets;

/// <summary>The slots a page header's values are captured in by <see cref="ParquetThriftWalk"/> (see <see cref="ParquetPageHeader"/>).</summary>
internal static class PageValue
{
    public const int Type = 0;
    public const int UncompressedSize = 1;
    public const int CompressedSize = 2;
    public const int HasDataHeader = 3;
    public const int DataValues = 4;
    public const int DataEncoding = 5;
    public const int HasDictionaryHeader = 6;
    public const int DictionaryValues = 7;
    public const int HasV2Header = 8;
    public const int V2Values = 9;
    public const int V2Encoding = 10;
    public const int V2DefinitionBytes = 11;
    public const int V2RepetitionBytes = 12;
    public const int V2IsCompressed = 13;
    public const int Count = 14;
}
