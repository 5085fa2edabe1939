using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using Tessera.Serving.Grpc;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// A received gRPC ModelInferRequest as the server decodes it, both ways: as the message of a unary ModelInfer call
/// (framed, then read by <see cref="GrpcMessageReader"/> from a pipe a few bytes at a time, as DATA frames split it,
/// into one block its raw contents stay in) and as a message of a ModelStreamInfer call (Grpc.AspNetCore's buffer,
/// large raw contents copied into pool blocks); each through <see cref="RawInputParser"/> and
/// <see cref="GrpcRequestReader"/>. The input is also read as a whole call body (prefix included), where the
/// reader's refusals of what is not one message within the limit (400, 413, 501) are expected.
/// </summary>
internal sealed class GrpcRequestTarget : FuzzTarget
{
    /// <summary>The message limit of the target's reader (the server's is --max-body-mb): a block of it is in the allocation bound.</summary>
    private const int MaxMessageBytes = 256 << 10;

    private readonly RequestBufferPool _pool = new(64L << 20);

    public override string Name => "grpc";

    public override string Description => "gRPC ModelInfer call bodies and ModelInferRequest decoding (GrpcMessageReader, RawInputParser, GrpcRequestReader, TypedContents)";

    public override void Parse(ReadOnlySpan<byte> input)
    {
        byte[] bytes = input.ToArray();
        int piece = 1 + (bytes.Length % 13);
        try
        {
            using var body = Read(bytes, piece);
            GrpcRequestReader.Read(RawInputParser.Parse(body));
        }
        catch (ServingException e) when (e.StatusCode is 400 or 413 or 501)
        {
            // Most inputs are not a call body of one message; the same bytes as a message follow.
        }

        var framed = new byte[GrpcMessageReader.PrefixBytes + bytes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)bytes.Length);
        bytes.CopyTo(framed, GrpcMessageReader.PrefixBytes);
        using (var message = Read(framed, piece))
        {
            GrpcRequestReader.Read(RawInputParser.Parse(message));
        }

        var blocks = new List<RequestBuffer>();
        try
        {
            GrpcRequestReader.Read(RawInputParser.Parse(new ReadOnlySequence<byte>(bytes), _pool, blocks));
        }
        finally
        {
            foreach (var block in blocks) block.Dispose();
        }
    }

    public override bool IsRefusal(Exception e) => e is ServingException { StatusCode: 400 };

    /// <summary>The reader on a pipe written <paramref name="piece"/> bytes per flush, on this thread (inline schedulers), so allocations are counted.</summary>
    private RequestBuffer Read(byte[] body, int piece)
    {
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 0, useSynchronizationContext: false));
        var reading = GrpcMessageReader.ReadAsync(pipe.Reader, _pool, MaxMessageBytes, CancellationToken.None);
        for (int at = 0; at < body.Length && !reading.IsCompleted; at += piece)
        {
            pipe.Writer.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at))).AsTask().GetAwaiter().GetResult();
        }

        pipe.Writer.Complete();
        return reading.AsTask().GetAwaiter().GetResult();
    }

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        var typed = new ModelInferRequest { ModelName = "m", Id = "req-1" };
        typed.Parameters["priority"] = new InferParameter { Int64Param = 2 };
        typed.Parameters["timeout"] = new InferParameter { Uint64Param = 1000 };
        typed.Parameters["binary_data_output"] = new InferParameter { BoolParam = true };
        typed.Inputs.Add(Input("f", "FP32", [2, 2], c => c.Fp32Contents.Add([1, 2, 3, float.NaN])));
        typed.Inputs.Add(Input("d", "FP64", [1], c => c.Fp64Contents.Add(0.5)));
        typed.Inputs.Add(Input("i8", "INT8", [2], c => c.IntContents.Add([-128, 127])));
        typed.Inputs.Add(Input("i16", "INT16", [1], c => c.IntContents.Add(-300)));
        typed.Inputs.Add(Input("i32", "INT32", [1], c => c.IntContents.Add(7)));
        typed.Inputs.Add(Input("i64", "INT64", [2], c => c.Int64Contents.Add([long.MinValue, 3])));
        typed.Inputs.Add(Input("u8", "UINT8", [1], c => c.UintContents.Add(255)));
        typed.Inputs.Add(Input("u16", "UINT16", [1], c => c.UintContents.Add(65535)));
        typed.Inputs.Add(Input("u32", "UINT32", [1], c => c.UintContents.Add(uint.MaxValue)));
        typed.Inputs.Add(Input("u64", "UINT64", [1], c => c.Uint64Contents.Add(ulong.MaxValue)));
        typed.Inputs.Add(Input("b", "BOOL", [2], c => c.BoolContents.Add([true, false])));
        typed.Inputs.Add(Input("s", "BYTES", [2], c => c.BytesContents.Add([ByteString.CopyFromUtf8("hi"), ByteString.Empty])));
        typed.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "y" });
        yield return typed.ToByteArray();

        var raw = new ModelInferRequest { ModelName = "m" };
        raw.Inputs.Add(Input("x", "FP16", [3], null));
        raw.Inputs.Add(Input("s", "BYTES", [1], null));
        raw.Inputs.Add(Input("b", "BF16", [1, 1], null));
        raw.RawInputContents.Add(ByteString.CopyFrom(0, 60, 0, 188, 0, 0));
        raw.RawInputContents.Add(ByteString.CopyFrom(3, 0, 0, 0, 97, 98, 99));
        raw.RawInputContents.Add(ByteString.CopyFrom(128, 63));
        yield return raw.ToByteArray();

        // One entry past PinnedBytes.MinimumPinnedBytes, so the pool-block path is in the corpus too.
        var large = new ModelInferRequest { ModelName = "m" };
        large.Inputs.Add(Input("u", "UINT8", [PinnedBytes.MinimumPinnedBytes + 8], null));
        large.RawInputContents.Add(ByteString.CopyFrom(new byte[PinnedBytes.MinimumPinnedBytes + 8]));
        yield return large.ToByteArray();
    }

    private static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, long[] shape, Action<InferTensorContents>? fill)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        input.Shape.Add(shape);
        if (fill is not null)
        {
            input.Contents = new InferTensorContents();
            fill(input.Contents);
        }

        return input;
    }
}
