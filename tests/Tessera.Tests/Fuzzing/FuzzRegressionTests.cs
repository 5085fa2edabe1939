using System.Buffers.Binary;
using Tessera.Cluster.Transport;
using Tessera.Fuzz;

namespace Tessera.Tests.Fuzzing;

/// <summary>
/// Each input the fuzzers found (Fuzzing/Crashes/TARGET/NAME) is refused by its reader with the one-line error named
/// here, with no more allocation than the target's bound; before the fixes each threw another exception, printed a
/// message of several lines, or allocated what its header declared (up to 2 GiB for a few dozen bytes).
/// </summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    [InlineData("rest", "invalid-utf8-in-string", "a string is not valid UTF-8")]
    [InlineData("rest", "newline-in-json-literal", "malformed JSON")]
    [InlineData("rest", "json-shape-declares-2gib", "too few for the 268435455 values")]
    [InlineData("rest", "binary-bytes-shape-without-data", "cannot hold the 268435455 elements")]
    [InlineData("grpc", "zero-tag", "malformed ModelInferRequest")]
    [InlineData("grpc", "input-ends-inside-field", "malformed ModelInferRequest")]
    [InlineData("grpc", "invalid-utf8-name", "malformed ModelInferRequest")]
    [InlineData("npy", "truncated-v2-length", "truncated .npy header")]
    [InlineData("npy", "more-than-2-31-elements", "truncated .npy data: 0 of 137438953472 bytes")]
    [InlineData("npy", "shape-overflows-64-bits", "declares more data than a file can hold")]
    [InlineData("npy", "header-declares-800mb", "truncated .npy data: 0 of 800000000 bytes")]
    [InlineData("npy", "newline-in-dtype", @".npy dtype '<f8\x0a\x1b[31m' is not supported")]
    [InlineData("tensorproto", "dims-declare-512mb-without-data", "holds 0 values where its shape needs 134217728")]
    [InlineData("tensorproto", "strings-declared-without-data", "has 0 strings for shape")]
    [InlineData("tensorproto", "external-offset-not-a-number", "has external data offset 'abc', not a byte count")]
    [InlineData("tensorproto", "external-offset-overflows", "reads past the end of 'weights.bin'")]
    [InlineData("messages", "strings-count-without-strings", "announces 65535 items in 0 bytes")]
    [InlineData("messages", "model-costs-count-without-costs", "announces 65535 items in 0 bytes")]
    [InlineData("handshake", "tensor-frame-of-1gib-before-hello", "exceeds the limit of 81920 here")]
    [InlineData("parquet", "row-group-declares-256mib", "its footer (the Thrift metadata) is malformed")]
    [InlineData("parquet", "footer-list-of-2g-booleans", "its footer (the Thrift metadata) is malformed")]
    [InlineData("parquet", "footer-misaligned-past-its-end", "its footer (the Thrift metadata) is malformed")]
    [InlineData("parquet", "footer-stop-type-with-a-field-id", "its footer (the Thrift metadata) is malformed")]
    [InlineData("parquet", "footer-over-the-leading-magic", "its footer (the Thrift metadata) is malformed")]
    [InlineData("parquet", "page-statistics-declare-18mb", "column 'id' in row group 0: the page at byte 78 has a malformed header")]
    [InlineData("parquet", "page-statistics-declare-220mb", "column 'x' in row group 0: the page at byte 4 has a malformed header")]
    public void TheReaderRefusesTheInputWithItsOneLineError(string name, string file, string message)
    {
        using var target = new OwnedTarget(name);
        byte[] input = CrashInputs.Read(name, file);
        var refusal = Record.Exception(() => target.Value.Parse(input));
        Assert.NotNull(refusal);
        Assert.True(target.Value.IsRefusal(refusal), $"{refusal.GetType().Name}: {refusal.Message}");
        Assert.Contains(message, refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Message);
        var outcome = FuzzCheck.Run(target.Value, input);
        Assert.False(outcome.IsFinding, outcome.Failure);
    }

    /// <summary>The gRPC port's HTTP/2 server has no refusal (a bad input ends in GOAWAY or RST_STREAM): its inputs must just not break it.</summary>
    [Theory]
    [InlineData("header-name-not-a-grpc-metadata-key")] // "grpc-timeou<": Grpc.Core.Metadata threw out of the connection's loop
    public void TheGrpcPortsConnectionTakesTheInputWithoutAFinding(string file)
    {
        using var target = new OwnedTarget("http2");
        var outcome = FuzzCheck.Run(target.Value, CrashInputs.Read("http2", file));
        Assert.False(outcome.IsFinding, outcome.Failure);
    }

    [Fact]
    public void EveryCrashInputHasItsExpectedError()
    {
        var listed = typeof(FuzzRegressionTests).GetMethod(nameof(TheReaderRefusesTheInputWithItsOneLineError))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => $"{a.GetData(null!).Single()[0]}/{a.GetData(null!).Single()[1]}").ToHashSet();
        listed.UnionWith(typeof(FuzzRegressionTests).GetMethod(nameof(TheGrpcPortsConnectionTakesTheInputWithoutAFinding))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => $"http2/{a.GetData(null!).Single()[0]}"));
        var files = FuzzTargets.Names.SelectMany(t => Directory.Exists(CrashInputs.Folder(t))
            ? Directory.GetFiles(CrashInputs.Folder(t)).Select(f => $"{t}/{Path.GetFileName(f)}")
            : []);
        Assert.DoesNotContain(files, f => !listed.Contains(f));
    }

    [Fact]
    public void BeforeAuthenticationAFrameHeaderCannotMakeTheReaderAllocateItsPayload()
    {
        // What the handshake reads with: a 16-byte header announcing a 1 GiB tensor is refused before its storage exists.
        byte[] header = new byte[FrameHeader.Size];
        new FrameHeader(1u << 30, FrameType.Tensor, 1).Write(header);
        var reader = new FrameReader(new MemoryStream(header), TransportLimits.Default);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ClusterException>(() => reader.ReadAsync(TimeSpan.FromSeconds(5), default, maxPayloadBytes: Protocol.MaxHandshakeFrameBytes).AsTask().GetAwaiter().GetResult());
        Assert.Equal(ClusterErrorCode.FrameTooLarge, e.Code);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void AfterAuthenticationATensorFrameIsBoundedByTheLimit()
    {
        byte[] frame = new byte[FrameHeader.Size + 4];
        new FrameHeader((1u << 20) + 64, FrameType.Tensor, 1).Write(frame);
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(FrameHeader.Size), 1);
        var limits = new TransportLimits { MaxTensorBytes = 1 << 16 };
        var reader = new FrameReader(new MemoryStream(frame), limits);
        var e = Assert.Throws<ClusterException>(() => reader.ReadAsync(TimeSpan.FromSeconds(5), default).AsTask().GetAwaiter().GetResult());
        Assert.Equal(ClusterErrorCode.FrameTooLarge, e.Code);
    }
}
