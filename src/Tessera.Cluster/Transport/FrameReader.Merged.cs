using System.Buffers.Binary;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Reading a merged RUN or RESULT (<see cref="FrameHeader.TensorsFlag"/>): one header, one deadline and one parse of
/// the frame for the whole message, its tensors handed out one per <see cref="ReadAsync"/> as the Tensor frames they
/// would be on their own, so the callers read either form alike.
/// </summary>
public sealed partial class FrameReader
{
    /// <summary>
    /// A merged RUN or RESULT's control part (<see cref="FrameHeader.TensorsFlag"/>), returned as the frame it would be
    /// on its own; its tensors follow from <see cref="ReadCarriedAsync"/>.
    /// </summary>
    private async ValueTask<Frame> ReadMergedAsync(FrameHeader header, ReadScope reading)
    {
        if (header.Length < FrameWriter.MergedPrefixSize)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a {header.Type} frame with tensors of {header.Length} bytes is shorter than its prefix");
        }

        await _input.FillAsync(FrameWriter.MergedPrefixSize, reading, allowCleanEnd: false).ConfigureAwait(false);
        var prefix = _input.Take(FrameWriter.MergedPrefixSize);
        uint control = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(prefix[4..]);
        if (control > _limits.MaxControlFrameBytes)
        {
            throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"a {header.Type} frame's control part of {control} bytes exceeds the limit of {_limits.MaxControlFrameBytes}");
        }

        if (count == 0 || (long)control + FrameWriter.MergedPrefixSize > header.Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"a {header.Type} frame of {header.Length} bytes cannot hold a {control}-byte control part and {count} tensors");
        }

        byte[] payload = control == 0 ? [] : new byte[control];
        await _input.ReadExactlyAsync(payload, reading, "a frame").ConfigureAwait(false);
        _carriedLeft = count;
        _carriedBytes = header.Length - FrameWriter.MergedPrefixSize - control;
        _carriedId = header.RequestId;
        return new Frame(header, payload);
    }

    /// <summary>The next tensor of the merged message being read, checked against what is left of its frame.</summary>
    private async ValueTask<Frame> ReadCarriedAsync(CancellationToken cancellation, OutputPlacement? place, bool inPlace)
    {
        var reading = _carriedReading;
        try
        {
            cancellation.ThrowIfCancellationRequested();
            if (_carriedBytes < 1 + TensorMeta.PrefixSize)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"message {_carriedId} ends before its {_carriedLeft} last tensors");
            }

            await _input.FillAsync(1 + TensorMeta.PrefixSize, reading, allowCleanEnd: false).ConfigureAwait(false);
            byte where = _input.Take(1)[0];
            if (where is not (0 or FrameHeader.SharedMemoryFlag))
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"message {_carriedId} carries a tensor with flags {where}");
            }

            int metaSize = TensorMeta.SizeFromPrefix(_input.Peek(TensorMeta.PrefixSize));
            if (1 + metaSize > _carriedBytes)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"message {_carriedId} ends inside a tensor's header");
            }

            await _input.FillAsync(metaSize, reading, allowCleanEnd: false).ConfigureAwait(false);
            var meta = TensorMeta.Read(_input.Take(metaSize));
            bool shared = where == FrameHeader.SharedMemoryFlag;
            long length = metaSize + (shared ? 8 : meta.ByteLength);
            if (meta.TensorBytes > _limits.MaxTensorBytes)
            {
                throw new ClusterException(ClusterErrorCode.FrameTooLarge, $"tensor '{meta.Name}' of {meta.TensorBytes} bytes exceeds the limit of {_limits.MaxTensorBytes}");
            }

            _carriedBytes -= 1 + length;
            _carriedLeft--;
            if (_carriedBytes < 0 || (_carriedLeft == 0 && _carriedBytes != 0))
            {
                throw new ClusterException(ClusterErrorCode.Malformed, $"message {_carriedId}'s tensor '{meta.Name}' and its frame's length disagree");
            }

            var header = new FrameHeader((uint)length, FrameType.Tensor, _carriedId, shared ? FrameHeader.SharedMemoryFlag : (byte)0);
            return new Frame(header, [], meta.Name, await ReadTensorDataAsync(meta, shared, reading, place, inPlace).ConfigureAwait(false));
        }
        catch
        {
            // The stream is somewhere inside the frame: nothing more of it is read.
            _carriedLeft = 0;
            throw;
        }
        finally
        {
            if (_carriedLeft == 0)
            {
                Disarm(_carriedLinked);
                _carriedLinked = default;
                _carriedReading = default;
            }
        }
    }
}
