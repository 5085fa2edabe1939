using System.Buffers;
using System.Globalization;
using Parquet.Meta;
using Snappier;
using ZstdSharp;

namespace Tessera.Batch.Datasets;

/// <summary>
/// Walks the pages of one column chunk before Parquet.Net 6.1 decodes it, and refuses what would make it allocate out
/// of proportion to the chunk's values. Parquet.Net starts at the chunk's lowest page offset, reads a page header
/// (Thrift), sizes a buffer by the header's uncompressed size (Snappy and Zstd by the size their own data declares),
/// decodes, and moves on by the header's compressed size until it has the chunk's number of values. So every page must
/// lie within the chunk's bytes (the footer's offsets and total_compressed_size), declare no more values than the
/// chunk, at least one if it holds data, and together exactly the chunk's; a page's uncompressed size may not exceed
/// <see cref="PageBytes"/> for its values, nor Snappy or Zstd data declare more than that size; and what Parquet.Net
/// allocates for all the pages (its buffers, its copies of the compressed bytes, a dictionary, dictionary indexes, a
/// buffer for the rest of the chunk with each RLE page of booleans) may not exceed <see cref="DecodeBytes"/>.
/// Returns the chunk's byte range, which Parquet.Net is then held to (<see cref="ParquetFence"/>).
/// </summary>
internal static class ParquetPageCheck
{
    /// <summary>What Parquet.Net may allocate decoding one chunk, beside the caller's arrays: this much a value...</summary>
    public const long DecodeBytesPerValue = 128;

    /// <summary>...and this much a chunk.</summary>
    public const long DecodeBytesPerChunk = 4096;

    /// <summary>A page header longer than this is refused (one of a column of numbers takes tens of bytes).</summary>
    private const int MaxHeaderBytes = 4096;

    private const long RleEncoding = 3;

    /// <summary>
    /// The most bytes a legitimate page of <paramref name="values"/> values of a physical type of
    /// <paramref name="width"/> bytes takes uncompressed: a level stream each for repetition and definition at 2 bytes a
    /// value at most (an RLE run per value), the values at their width or as a dictionary index of up to 32 bits with
    /// its run header, 2 bytes a value for the encodings' own headers (delta blocks, bit-packed groups), and 64 bytes
    /// for the levels' lengths and an encoding's leading header.
    /// </summary>
    public static long PageBytes(long values, int width) => 64 + (values * (Math.Max(width, 4) + 2 + 2 + 2));

    public static long DecodeBytes(long values) => DecodeBytesPerChunk + (DecodeBytesPerValue * values);

    public static (long Start, long End) Check(Stream file, ColumnMetaData meta, string column, int group)
    {
        string where = string.Create(CultureInfo.InvariantCulture, $"column '{column}' in row group {group}");
        if (meta.NumValues == 0) return (0, 0); // Parquet.Net reads no page of it
        long[] offsets = [meta.DictionaryPageOffset ?? 0, meta.DataPageOffset, meta.IndexPageOffset ?? 0];
        long start = offsets.Where(o => o != 0).DefaultIfEmpty(0).Min(), end = start + meta.TotalCompressedSize;
        if (start < 0 || meta.TotalCompressedSize < 0 || end > file.Length || end < start)
        {
            throw new BatchException($"{where} declares its pages at bytes {start} to {start}+{meta.TotalCompressedSize}, outside the file's {file.Length}");
        }

        int width = meta.Type switch
        {
            Parquet.Meta.Type.BOOLEAN => 1,
            Parquet.Meta.Type.INT32 or Parquet.Meta.Type.FLOAT => 4,
            Parquet.Meta.Type.INT64 or Parquet.Meta.Type.DOUBLE => 8,
            _ => throw new BatchException($"{where} holds {meta.Type} values: batch reads numbers and booleans"),
        };
        long chunkValues = meta.NumValues, values = 0, allocated = 0;
        Span<byte> window = stackalloc byte[MaxHeaderBytes];
        for (long at = start; at < end;)
        {
            int length = (int)Math.Min(window.Length, end - at);
            file.Seek(at, SeekOrigin.Begin);
            file.ReadExactly(window[..length]);
            string page = string.Create(CultureInfo.InvariantCulture, $"{where}: the page at byte {at}");
            var header = ParquetPageHeader.Read(window[..length])
                ?? throw new BatchException($"{page} has a malformed header (a Thrift PageHeader within the chunk's bytes, up to {MaxHeaderBytes} bytes long)");
            long data = at + header.Length;
            if (header.CompressedSize < 0 || header.CompressedSize > end - data)
            {
                throw new BatchException($"{page} declares {header.CompressedSize} bytes, more than the {end - data} left in its column chunk");
            }

            if (header.Type is not (ParquetPageHeader.DataPage or ParquetPageHeader.DictionaryPage or ParquetPageHeader.DataPageV2))
            {
                throw new BatchException($"{page} is of page type {header.Type}, which batch does not read");
            }

            bool holdsData = header.Type != ParquetPageHeader.DictionaryPage;
            if (header.Values < 0) throw new BatchException($"{page} lacks the header of its page type ({header.Type}) or declares a negative value count");
            if (header.Values > chunkValues - (holdsData ? values : 0) || (holdsData && header.Values == 0))
            {
                throw new BatchException($"{page} declares {header.Values} values, its column chunk {chunkValues} in all ({values} in the pages before)");
            }

            long bound = PageBytes(header.Values, width);
            if (header.UncompressedSize < 0 || header.UncompressedSize > bound)
            {
                throw new BatchException($"{page} declares {header.UncompressedSize} bytes uncompressed, more than the {bound} that {header.Values} {meta.Type} values take");
            }

            bool decompressed = header.Type != ParquetPageHeader.DataPageV2 || (header.IsCompressed && meta.Codec != CompressionCodec.UNCOMPRESSED);
            if (decompressed && meta.Codec is CompressionCodec.SNAPPY or CompressionCodec.ZSTD)
            {
                if (header.LevelBytes < 0 || header.LevelBytes > header.CompressedSize) throw new BatchException($"{page} declares levels longer than the page");
                long declared = CodecSize(file, meta.Codec, data + header.LevelBytes, header.CompressedSize - header.LevelBytes);
                if (declared < 0 || declared > header.UncompressedSize)
                {
                    throw new BatchException($"{page} holds {meta.Codec} data that declares {(declared < 0 ? "no valid size" : $"{declared} bytes")}, more than the page's {header.UncompressedSize}");
                }
            }

            allocated += Allocation(meta, header, decompressed, chunkValues - values);
            if (allocated > DecodeBytes(chunkValues))
            {
                throw new BatchException($"{where}: its pages would make Parquet.Net allocate over {DecodeBytes(chunkValues)} bytes for {chunkValues} values ({DecodeBytesPerValue} a value): write fewer, larger pages");
            }

            if (holdsData) values += header.Values;
            at = data + header.CompressedSize;
        }

        if (values != chunkValues) throw new BatchException($"{where} declares {chunkValues} values, its pages {values}");
        return (start, end);
    }

    /// <summary>
    /// What Parquet.Net 6.1 allocates for one page: the decompressed page (Zstd's output and a copy of it), three times
    /// the compressed bytes for a codec that copies them into a growing stream first, the whole page for a v2 page, the
    /// dictionary at 8 bytes a value, indexes at 4, and for an RLE page of booleans 4 bytes for each value the chunk
    /// has yet to read.
    /// </summary>
    private static long Allocation(ColumnMetaData meta, ParquetPageHeader header, bool decompressed, long valuesLeft)
    {
        long bytes = header.Type == ParquetPageHeader.DataPageV2 ? header.CompressedSize : 0;
        if (decompressed)
        {
            bytes += header.UncompressedSize * (meta.Codec == CompressionCodec.ZSTD ? 2 : 1);
            if (meta.Codec != CompressionCodec.UNCOMPRESSED) bytes += 3 * header.CompressedSize;
        }

        bytes += header.Values * (header.Type == ParquetPageHeader.DictionaryPage ? 8 : 4);
        bool booleanRle = header.Type != ParquetPageHeader.DictionaryPage && meta.Type == Parquet.Meta.Type.BOOLEAN && header.Encoding == RleEncoding;
        return bytes + (booleanRle ? 4 * valuesLeft : 0);
    }
    /// <summary>The bytes Snappier or ZstdSharp will allocate for the compressed data at <paramref name="at"/> (as Parquet.Net calls them); -1 if its size is malformed.</summary>
    private static long CodecSize(Stream file, CompressionCodec codec, long at, long length)
    {
        int read = (int)(codec == CompressionCodec.SNAPPY ? Math.Min(length, 5) : length);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(read);
        try
        {
            file.Seek(at, SeekOrigin.Begin);
            file.ReadExactly(bytes, 0, read);
            return codec == CompressionCodec.SNAPPY ? Snappy.GetUncompressedLength(bytes.AsSpan(0, read)) : (long)Math.Min(Decompressor.GetDecompressedSize(bytes.AsSpan(0, read)), long.MaxValue);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdException or ArgumentException)
        {
            return -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
