using Microsoft.AspNetCore.Http;

namespace Tessera.Serving.Http;

/// <summary>
/// GET /dashboard: one static page (dashboard.html, embedded in this assembly) that reads the server's own /metrics
/// once a second and shows the workers, where each model's replicas and stages run, request rate, latency
/// percentiles, queue depth, and workers going down or coming back as it sees them. No build step: the page is
/// plain HTML and JavaScript.
/// </summary>
internal static class DashboardEndpoint
{
    private static readonly byte[] s_page = Load();

    public static async Task ServeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = s_page.Length;
        await context.Response.Body.WriteAsync(s_page, context.RequestAborted).ConfigureAwait(false);
    }

    private static byte[] Load()
    {
        using var stream = typeof(DashboardEndpoint).Assembly.GetManifestResourceStream("Tessera.Serving.Http.dashboard.html")
            ?? throw new InvalidOperationException("dashboard.html is not embedded in Tessera.Serving");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
