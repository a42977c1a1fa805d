extern alias dashboard;
using System.Net;
using System.Text.RegularExpressions;
using AspireLlm.ServiceTests.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using DashboardOptions = dashboard::AspireLlm.Dashboard.Web.Api.DashboardOptions;
using AdminApiClient = dashboard::AspireLlm.Dashboard.Web.Api.AdminApiClient;
using LoginApiClient = dashboard::AspireLlm.Dashboard.Web.Api.LoginApiClient;

namespace AspireLlm.ServiceTests.Dashboard;

/// <summary>
/// The real dashboard (its Program.cs) on a test server, calling the real Api on another test server.
/// A test request says which client address it comes from in <see cref="TestAddressHeader"/>: the test
/// server has none of its own.
/// </summary>
public sealed partial class DashboardFactory(ApiFactory api, string environment) : WebApplicationFactory<DashboardOptions>
{
    public const string TestAddressHeader = "X-Test-Remote-Address";

    public Dictionary<string, string?> Settings { get; init; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting("Admin:ApiKey", ApiFactory.AdminKey);
        builder.UseSetting("Admin:ApiBaseAddress", "http://api.test");
        foreach (var (name, value) in Settings)
        {
            builder.UseSetting(name, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddHttpClient<LoginApiClient>().ConfigurePrimaryHttpMessageHandler(() => api.Server.CreateHandler());
            services.AddHttpClient<AdminApiClient>().ConfigurePrimaryHttpMessageHandler(() => api.Server.CreateHandler());
            services.AddSingleton<IStartupFilter, TestAddressFilter>();
        });
    }

    /// <summary>A client that keeps cookies and does not follow redirects, as <paramref name="address"/>.</summary>
    public HttpClient CreateBrowser(string address, string scheme = "https", bool handleCookies = true)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false, BaseAddress = new Uri($"{scheme}://localhost"), HandleCookies = handleCookies,
        });
        client.DefaultRequestHeaders.Add(TestAddressHeader, address);
        return client;
    }

    /// <summary>Opens the login page and posts <paramref name="key"/> with the form's antiforgery token, as a browser does.</summary>
    public static async Task<HttpResponseMessage> LogInAsync(HttpClient browser, string key)
    {
        var page = await browser.GetStringAsync("/login");
        var token = TokenField().Match(page).Groups[1].Value;
        return await browser.PostAsync("/account/login", new FormUrlEncodedContent([new("key", key), new("__RequestVerificationToken", token)]));
    }

    /// <summary>
    /// The same, handing the antiforgery cookie back by hand (a client that keeps cookies does not send a
    /// Secure one over plain HTTP); returns the login page's Set-Cookie headers and the login's answer.
    /// </summary>
    public static async Task<(IReadOnlyList<string> PageCookies, HttpResponseMessage Login)> LogInByHandAsync(HttpClient browser, string key)
    {
        using var page = await browser.GetAsync("/login");
        var token = TokenField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        var cookies = page.Headers.GetValues("Set-Cookie").ToList();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent([new("key", key), new("__RequestVerificationToken", token)]),
        };
        request.Headers.Add("Cookie", string.Join("; ", cookies.Select(cookie => cookie.Split(';')[0])));
        return (cookies, await browser.SendAsync(request));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    private sealed class TestAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[TestAddressHeader], out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
