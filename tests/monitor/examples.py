"""Configuration texts shared by several tests."""

# The example of issue 2, as written there: it must work unchanged.
ISSUE_EXAMPLE = """\
[database]
url = "sqlite:///watch.db"          # default: a file in the platform data dir; postgresql+psycopg://... for teams

[[sources]]
name = "forum"
kind = "generic"                    # generic | feed here; telegram, discuz, tieba come with the spiders issue
urls = ["http://127.0.0.1:8800/forum/"]
schedule = "*/30 * * * *"           # cron, in [digest].timezone
[sources.options]                   # kind-specific: for generic, CSS or XPath selectors
item_links = "a.thread::attr(href)"
title = "h1::text"
text = "div.post"
next_page = "a.next::attr(href)"

[digest]
schedule = "0 9 * * *"
timezone = "Asia/Shanghai"
channels = ["mail", "hook"]

[[channels]]
name = "mail"
kind = "email"
host = "127.0.0.1"
port = 8025
sender = "doxwatch@example.org"
to = ["soc@example.org"]
# starttls / ssl / username_env / password_env as needed

[[channels]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:9000/hook"
"""
