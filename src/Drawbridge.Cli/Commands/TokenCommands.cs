using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

/// <summary>token create|list|revoke: personal API tokens (your own; an Owner's for anyone).</summary>
internal static class TokenCommands
{
    public static Command Create()
    {
        var principal = new Option<string?>("--principal") { Description = "Who the token is for (default: you; others need Owner)" };
        var ttl = new Option<string?>("--ttl") { Description = "How long it is valid (30d, 12h; default: until revoked)" };
        var description = new Option<string?>("--description") { Description = "A note shown in 'token list'" };
        var create = new Command("create", "Create a token; its secret is printed once. What it may do comes from its principal's roles") { principal, ttl, description };
        create.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var body = new ApiTokenCreateRequest { Principal = result.GetValue(principal), Ttl = result.GetValue(ttl), Description = result.GetValue(description) };
            var token = await api.PostAsync("api/v1/tokens", body, DrawbridgeJson.Wire.ApiTokenCreateRequest, DrawbridgeJson.Wire.ApiTokenView, ct);
            printer.Show(token, DrawbridgeJson.Indented.ApiTokenView, () =>
            {
                Console.Out.WriteLine(token.Token);
                Console.Error.WriteLine($"(token {token.Id} for {token.Principal}; shown once: drawbridge login --server URL --token TOKEN)");
            });
            return 0;
        });

        var list = new Command("list", "List your tokens, or everyone's for Owners and readers (never their secrets)");
        list.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var tokens = await api.GetAsync("api/v1/tokens", DrawbridgeJson.Wire.ListApiTokenView, ct);
            printer.Show(tokens, DrawbridgeJson.Indented.ListApiTokenView, () =>
            {
                var now = DateTimeOffset.UtcNow;
                printer.Table(["ID", "PRINCIPAL", "STATE", "EXPIRES", "DESCRIPTION"], tokens.Select(t => new[]
                {
                    t.Id ?? "", t.Principal ?? "",
                    t.RevokedUtc is not null ? "revoked" : t.ExpiresUtc <= now ? "expired" : "active",
                    t.ExpiresUtc is { } e ? Printer.When(e, now) : "never", t.Description ?? "",
                }));
            });
            return 0;
        });

        var id = new Argument<string>("id") { Description = "Token id (from 'drawbridge token list')" };
        var revoke = new Command("revoke", "Revoke a token; it stops working at once") { id };
        revoke.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var token = await api.DeleteAsync($"api/v1/tokens/{Uri.EscapeDataString(result.GetValue(id)!)}", DrawbridgeJson.Wire.ApiTokenView, ct);
            printer.Show(token, DrawbridgeJson.Indented.ApiTokenView, () =>
            {
                printer.Line($"Revoked token {token.Id} of {token.Principal}.");
            });
            return 0;
        });

        return new Command("token", "Personal API tokens") { create, list, revoke };
    }
}
