using System.Buffers.Binary;

namespace Tessera.Batch.Datasets;

/// <summary>
/// Walks a Parquet file's footer (Thrift compact protocol) against parquet.thrift's structures before Parquet.Net
/// reads it (<see cref="ParquetThriftWalk"/>), and refuses a footer Parquet.Net 6.1 would get lost in: a 300-byte
/// file once kept it busy for minutes. The footer's structures hold no doubles, maps or booleans in lists, bar a
/// geospatial bounding box (refused). A file too short to hold the footer its tail declares is left to Parquet.Net, which fails to seek there.
/// </summary>
internal static class ParquetFooterCheck
{
    public static void Check(Stream stream, string source)
    {
        if (stream.Length < 8) return;
        Span<byte> tail = stackalloc byte[8];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(tail);
        long length = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        // Parquet.Net reads any footer that fits before the tail, even over the leading "PAR1": so must the check.
        if (!tail[4..].SequenceEqual("PAR1"u8) || length > stream.Length - 8) return;

        byte[] footer = new byte[length];
        stream.Seek(-8 - length, SeekOrigin.End);
        stream.ReadExactly(footer);
        stream.Seek(0, SeekOrigin.Begin);
        int at = 0;
        if (!ParquetThriftWalk.Struct(footer, ref at, ParquetThrift.FileMetaData, []))
        {
            throw new BatchException($"cannot read '{source}' as Parquet: its footer (the Thrift metadata) is malformed");
        }
    }
}
