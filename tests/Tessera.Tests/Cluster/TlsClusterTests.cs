using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Tensors;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>
/// TLS under the token handshake, on real worker processes: coordinator to worker and worker to worker (a pipeline's
/// peer link) are encrypted; a client without TLS, or trusting another certificate, is refused with a clear error and
/// the worker keeps serving.
/// </summary>
public sealed class TlsClusterTests : IDisposable
{
    private const int K = 16, N = 32;
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task APipelineRunsOverTlsAndClientsWithoutItOrWithAnotherCertificateAreRefused()
    {
        var (cert, key) = WriteSelfSigned("cluster");
        string[] tlsArgs = ["--tls-cert", cert, "--tls-key", key];
        using var a = _fx.StartWorker(null, tlsArgs);
        using var b = _fx.StartWorker(null, tlsArgs);
        var tls = ClusterTls.FromPemFiles(cert, key, null);

        await using (var coordinator = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions with { Tls = tls }))
        {
            await coordinator.ConnectAsync(a.Address);
            await coordinator.ConnectAsync(b.Address);
            var s1 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage1(K, N, 3), "s1.onnx"));
            var s2 = ModelFile.FromPath(_fx.Save(ClusterFixture.Stage2(K, N, 3), "s2.onnx"));
            var (wa, wb) = (coordinator.Workers[0], coordinator.Workers[1]);
            await coordinator.EnsureModelAsync(wa, s1);
            await coordinator.EnsureModelAsync(wb, s2);
            var route = new Route([new RouteStep(wa, s1.Hash, ["x"]), new RouteStep(wb, s2.Hash, ["h", "x"])]);
            var x = ClusterFixture.Random([3, K], 7);
            var y = await coordinator.RunAsync(route, new Dictionary<string, Tensor> { ["x"] = x }, ["y"]);
            Assert.Equal(ClusterFixture.Reference(ClusterFixture.Whole(K, N, 3), "x", x, "y").ToArray<float>(), y["y"].ToArray<float>());
            Assert.True(b.WaitForLog("as Peer"), b.Log);
        }

        // No TLS: the worker sees no TLS hello and closes; the client hears of it during the handshake.
        await using (var plain = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions))
        {
            var refused = await Assert.ThrowsAsync<ClusterException>(() => plain.ConnectAsync(a.Address));
            Assert.Contains("handshake", refused.Message);
        }

        Assert.True(a.WaitForLog("TLS handshake failed"), a.Log);

        // TLS trusting another certificate: this side refuses the worker's.
        var (otherCert, otherKey) = WriteSelfSigned("other");
        await using (var stranger = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions with { Tls = ClusterTls.FromPemFiles(otherCert, otherKey, null) }))
        {
            var refused = await Assert.ThrowsAsync<ClusterException>(() => stranger.ConnectAsync(a.Address));
            Assert.Equal(ClusterErrorCode.Unauthorized, refused.Code);
            Assert.StartsWith($"TLS with {a.Address} failed", refused.Message);
        }

        // And the worker goes on serving the cluster.
        await using var again = new ClusterCoordinator(_fx.Token, ClusterFixture.FastOptions with { Tls = tls });
        await again.ConnectAsync(a.Address);
        Assert.True(again.Workers[0].IsUp);
    }

    [Fact]
    public void HalfGivenTlsOptionsAreOneLineErrors()
    {
        var (cert, _) = WriteSelfSigned("cli");
        var missingKey = CliProcess.Run("worker", "--listen", "127.0.0.1:0", "--token-file", _fx.TokenFile, "--tls-cert", cert);
        Assert.NotEqual(0, missingKey.ExitCode);
        Assert.Equal("tessera: --tls-cert needs --tls-key, the certificate's private key", missingKey.Stderr.Trim());

        var unreadable = CliProcess.Run("worker", "--listen", "127.0.0.1:0", "--token-file", _fx.TokenFile, "--tls-cert", cert, "--tls-key", Path.Combine(_fx.Directory, "absent.pem"));
        Assert.NotEqual(0, unreadable.ExitCode);
        Assert.StartsWith("tessera: cannot load the TLS certificate", unreadable.Stderr.Trim());
        Assert.Single(unreadable.Stderr.Trim().Split('\n'));
    }

    private (string Cert, string Key) WriteSelfSigned(string name) => TestCertificates.WriteSelfSigned(_fx.Directory, name);
}
