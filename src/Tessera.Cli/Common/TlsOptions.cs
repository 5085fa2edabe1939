using System.CommandLine;
using Tessera.Cluster.Transport;

namespace Tessera.Cli.Common;

/// <summary>
/// The TLS options of every command that talks to workers, and what they load: --tls-cert/--tls-key/--tls-ca on
/// `worker` and `batch`, --cluster-tls-cert/... on `run` and `serve` (whose --tls-* secure the server's own front door).
/// </summary>
internal sealed class TlsOptions
{
    private readonly Option<string?> _certificate;
    private readonly Option<string?> _key;
    private readonly Option<string?> _ca;

    /// <param name="prefix">The options' common start: "--tls" or "--cluster-tls".</param>
    public TlsOptions(string prefix = "--tls")
    {
        _certificate = new($"{prefix}-cert") { Description = $"TLS on every cluster connection: this node's certificate (PEM); the same file on every node, or one per node with {prefix}-ca" };
        _key = new($"{prefix}-key") { Description = $"with {prefix}-cert: its private key (PEM)" };
        _ca = new($"{prefix}-ca") { Description = $"with {prefix}-cert: the CA certificates (PEM) a peer's certificate must chain to (default: {prefix}-cert itself)" };
    }

    public IEnumerable<Option> All => [_certificate, _key, _ca];

    /// <summary>The certificate option's name, for messages.</summary>
    public string CertificateOption => _certificate.Name;

    /// <summary>The TLS settings given, or null when none; one-line errors for half-given or unreadable ones.</summary>
    public ClusterTls? Read(ParseResult parse)
    {
        string? certificate = parse.GetValue(_certificate), key = parse.GetValue(_key), ca = parse.GetValue(_ca);
        if (certificate is null)
        {
            return key is null && ca is null ? null : throw new CliException($"{_key.Name} and {_ca.Name} go with {_certificate.Name}");
        }

        if (key is null)
        {
            throw new CliException($"{_certificate.Name} needs {_key.Name}, the certificate's private key");
        }

        try
        {
            return ClusterTls.FromPemFiles(certificate, key, ca);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }
}
