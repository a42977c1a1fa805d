using System.Text.RegularExpressions;

namespace AspireLlm.DashboardBench;

/// <summary>
/// The dashboard as a browser's first request sees it: logged in through the form (with its
/// antiforgery token), then plain GETs whose answer is the server-side render of the page. The
/// cookies are handed back by hand: outside Development they are Secure, and an HTTP client keeps
/// Secure cookies to itself over plain HTTP. Each request says it came over HTTPS through a proxy
/// (<c>X-Forwarded-Proto</c>), as a production dashboard behind a TLS-ending proxy sees it.
/// </summary>
internal sealed partial class DashboardBrowser : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _cookies;

    private DashboardBrowser(HttpClient http, string cookies) => (_http, _cookies) = (http, cookies);

    public static async Task<DashboardBrowser> LogInAsync(Uri dashboard, string key)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = dashboard, Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        using var page = await http.GetAsync("/login");
        var token = TokenField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        var antiforgery = Cookies(page);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent([new("key", key), new("__RequestVerificationToken", token)]),
        };
        request.Headers.Add("Cookie", antiforgery);
        using var login = await http.SendAsync(request);
        if (login.Headers.Location?.OriginalString != "/")
        {
            throw new InvalidOperationException($"The dashboard's login answered {(int)login.StatusCode} to {login.Headers.Location}.");
        }

        return new DashboardBrowser(http, antiforgery + "; " + Cookies(login));
    }

    /// <summary>GETs a page and returns its size; throws unless it is a 200 with the dashboard's layout.</summary>
    public async Task<int> GetPageAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", _cookies);
        using var response = await _http.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || html.Contains("The Api is not answering", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode}\n{html[..Math.Min(html.Length, 2000)]}");
        }

        return html.Length;
    }

    public void Dispose() => _http.Dispose();

    private static string Cookies(HttpResponseMessage response) =>
        string.Join("; ", response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Select(cookie => cookie.Split(';')[0]) : []);

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
