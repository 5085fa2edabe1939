namespace Tessera.Batch.Datasets;

/// <summary>
/// The dataset file as <see cref="ParquetDataset"/> lets Parquet.Net read it: while a column chunk is decoded
/// (<see cref="Enclose"/>), a read that starts outside the chunk's bytes fails and one that would cross its end stops
/// there. Its pages were checked before (<see cref="ParquetPageCheck"/>), but Parquet.Net reads pages until it has
/// as many values as the chunk declares, so pages that decode to fewer values than they declare would send it on into
/// bytes nobody checked; past the file's end it would read 0xFF forever.
/// </summary>
internal sealed class ParquetFence(Stream inner) : Stream
{
    private long _start;
    private long _end = long.MaxValue;
    private string? _refusal;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    /// <summary>From here until <see cref="Open"/>, reads stay within [<paramref name="start"/>, <paramref name="end"/>); one outside fails with <paramref name="refusal"/>.</summary>
    public void Enclose(long start, long end, string refusal) => (_start, _end, _refusal) = (start, end, refusal);

    public void Open() => (_start, _end, _refusal) = (0, long.MaxValue, null);

    public override int Read(Span<byte> buffer)
    {
        long at = inner.Position;
        if (_refusal is not null && (at < _start || at >= _end) && buffer.Length > 0) throw new BatchException(_refusal);
        return inner.Read(buffer[..(int)Math.Min(buffer.Length, _end - at)]);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
