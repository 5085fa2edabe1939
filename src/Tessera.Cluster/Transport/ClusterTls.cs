using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tessera.Cluster.Transport;

/// <summary>
/// Optional TLS under the HMAC handshake, for links that cross networks nobody trusts: the token proves who is in
/// the cluster, TLS keeps what they send private and unaltered. Every process holds a certificate it presents when
/// it accepts a connection, and trusts a peer's certificate only if it chains to the cluster's own roots (its CA, or
/// the one certificate every node shares). Names are not checked: nodes are reached by address, and the token
/// handshake that follows authenticates both ends anyway.
/// </summary>
public sealed class ClusterTls
{
    private readonly X509Certificate2Collection _roots;

    public ClusterTls(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("the TLS certificate has no private key");
        }

        Certificate = certificate;
        _roots = roots;
    }

    /// <summary>What this process presents to the processes that connect to it.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// Loads PEM files: this node's certificate and key, and the roots a peer's certificate must chain to (the
    /// certificate itself when <paramref name="caFile"/> is null, for a cluster that shares one certificate).
    /// </summary>
    public static ClusterTls FromPemFiles(string certificateFile, string keyFile, string? caFile)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            // Linux's TLS stack takes the key from an exported copy; a PEM-loaded key is ephemeral.
            var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            var roots = new X509Certificate2Collection();
            if (caFile is null)
            {
                roots.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
            }
            else
            {
                roots.ImportFromPemFile(caFile);
            }

            return new ClusterTls(certificate, roots);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ArgumentException($"cannot load the TLS certificate ({certificateFile}, {keyFile}{(caFile is null ? string.Empty : ", " + caFile)}): {e.Message}", e);
        }
    }

    /// <summary>Runs the client side of TLS over <paramref name="inner"/>; the stream it returns owns it.</summary>
    public async Task<Stream> ConnectAsync(Stream inner, string address, CancellationToken cancellation)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false, (_, certificate, _, _) => Trusts(certificate));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "tessera-cluster",
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, cancellation).ConfigureAwait(false);
            return tls;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new ClusterException(ClusterErrorCode.Unauthorized, $"TLS with {address} failed: {Reason(e)} (does it run with the cluster's --tls-cert?)");
        }
    }

    /// <summary>Runs the server side of TLS over <paramref name="inner"/>; the stream it returns owns it.</summary>
    public async Task<Stream> AcceptAsync(Stream inner, CancellationToken cancellation)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = Certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, cancellation).ConfigureAwait(false);
            return tls;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new ClusterException(ClusterErrorCode.Unauthorized, $"TLS handshake failed: {Reason(e)} (a client without --tls-cert?)");
        }
    }

    private bool Trusts(X509Certificate? presented)
    {
        if (presented is null)
        {
            return false;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static string Reason(Exception e) => e.InnerException is { } inner && inner.Message.Length > 0 ? $"{e.Message} {inner.Message}" : e.Message;
}
