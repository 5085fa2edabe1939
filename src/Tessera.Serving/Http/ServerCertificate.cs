using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tessera.Serving.Http;

/// <summary>Loads the front door's TLS certificate from PEM files (<c>serve --tls-cert C --tls-key K</c>).</summary>
internal static class ServerCertificate
{
    /// <summary>The certificate with its key; an <see cref="ArgumentException"/> with one line when the files cannot be used.</summary>
    public static X509Certificate2 Load(string certificateFile, string keyFile)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            // Linux's TLS stack takes the key from an exported copy; a PEM-loaded key is ephemeral.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ArgumentException($"cannot load the TLS certificate ({certificateFile}, {keyFile}): {e.Message}", e);
        }
    }
}
