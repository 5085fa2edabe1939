using System.Buffers;
using Google.Protobuf;
using Tessera.Serving.Grpc;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Tests.Serving;

/// <summary>
/// <see cref="RawInputParser"/> against Google.Protobuf's own parser: the same message for the same bytes, in
/// whatever order the fields come, split over many segments, with unknown fields; large entries land in pool blocks.
/// </summary>
public sealed class RawInputParserTests
{
    [Fact]
    public void DecodesTheSameMessageAsTheGeneratedParser()
    {
        var expected = new ModelInferRequest { ModelName = "m", ModelVersion = "2", Id = "x" };
        expected.Parameters["priority"] = new InferParameter { Int64Param = 1 };
        expected.Inputs.Add(GrpcApiTests.Input("a", "FP32", [3]));
        expected.Inputs.Add(GrpcApiTests.Input("b", "UINT8", [200000]));
        var random = new Random(3);
        byte[] big = new byte[200000], tiny = new byte[12];
        random.NextBytes(big);
        random.NextBytes(tiny);
        expected.RawInputContents.Add([ByteString.CopyFrom(tiny), ByteString.CopyFrom(big), ByteString.Empty]);
        byte[] bytes = expected.ToByteArray();

        // The raw entries first, an unknown field in the middle, the rest after: the order the proto declares is not required.
        var reordered = new MemoryStream();
        var output = new CodedOutputStream(reordered);
        foreach (var raw in expected.RawInputContents)
        {
            output.WriteTag(7, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(raw);
        }

        output.WriteTag(99, WireFormat.WireType.Fixed64);
        output.WriteFixed64(42);
        var rest = expected.Clone();
        rest.RawInputContents.Clear();
        rest.WriteTo(output);
        output.Flush();

        foreach (byte[] message in new[] { bytes, reordered.ToArray() })
        {
            var pool = new RequestBufferPool(64 << 20);
            var blocks = new List<RequestBuffer>();
            var parsed = RawInputParser.Parse(Segmented(message, 1000), pool, blocks);
            Assert.Equal(expected.RawInputContents, parsed.RawInputContents);
            parsed.RawInputContents.Clear();
            Assert.Equal(rest.Inputs, parsed.Inputs);
            Assert.Equal((rest.ModelName, rest.ModelVersion, rest.Id), (parsed.ModelName, parsed.ModelVersion, parsed.Id));
            Assert.Equal(rest.Parameters, parsed.Parameters);
            Assert.Single(blocks); // only the large entry went to a pool block
        }
    }

    [Fact]
    public void AMessageInABlockKeepsItsRawContentsWhereTheyAre()
    {
        var expected = new ModelInferRequest { ModelName = "m", Id = "b" };
        expected.Inputs.Add(GrpcApiTests.Input("a", "UINT8", [5]));
        expected.Inputs.Add(GrpcApiTests.Input("b", "UINT8", [100000]));
        var big = new byte[100000];
        new Random(4).NextBytes(big);
        expected.RawInputContents.Add([ByteString.CopyFrom(1, 2, 3, 4, 5), ByteString.CopyFrom(big)]);
        byte[] bytes = expected.ToByteArray();
        var pool = new RequestBufferPool(1 << 20);
        using var block = pool.Rent(bytes.Length);
        bytes.CopyTo(block.Free.Span);
        block.Length = bytes.Length;

        var parsed = RawInputParser.Parse(block);
        Assert.Equal(expected, parsed);
        foreach (var raw in parsed.RawInputContents)
        {
            Assert.True(block.Span.Overlaps(raw.Span), "a raw entry was copied out of the message's block");
        }
    }

    [Fact]
    public void TruncatedOrMalformedMessagesAreRefused()
    {
        var request = GrpcApiTests.Request("m", "a", "FP32", [1]);
        request.RawInputContents.Add(ByteString.CopyFrom(new byte[100000]));
        byte[] bytes = request.ToByteArray();
        var pool = new RequestBufferPool(64 << 20);
        for (int cut = 1; cut < bytes.Length; cut += 997)
        {
            var e = Record.Exception(() => RawInputParser.Parse(new ReadOnlySequence<byte>(bytes, 0, cut), pool, []));
            Assert.True(e is ServingException { StatusCode: 400 }, $"cut at {cut}: {e}");
        }

        Assert.IsType<ServingException>(Record.Exception(() => RawInputParser.Parse(new ReadOnlySequence<byte>([0x3B]), pool, []))); // field 7, a group
        Assert.IsType<ServingException>(Record.Exception(() => RawInputParser.Parse(new ReadOnlySequence<byte>(Enumerable.Repeat((byte)0xFF, 11).ToArray()), pool, [])));
    }

    /// <summary>The bytes as a sequence of segments of <paramref name="size"/>, as a received message arrives.</summary>
    internal static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (int at = 0; at < bytes.Length; at += size)
        {
            var next = new Segment(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)), at);
            first ??= next;
            last?.Append(next);
            last = next;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public void Append(Segment next) => Next = next;
    }
}
