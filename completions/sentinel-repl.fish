function __sentinel-repl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __sentinel-repl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __sentinel-repl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __sentinel-repl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __sentinel-repl_parse_tokens -S
    set -l unparsed_tokens (__sentinel-repl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'sentinel-repl'
        __sentinel-repl_parse_subcommand -r 2 's/sentinel=+' 'n/db=' 'user=' 'a/pass=' 'askpass' 'sentinel-user=' 'sentinel-pass=' '2' '3' 'raw' 'no-raw' 'csv' 'json' 'quoted-json' 'e' 'history-file=' 'u/url=' 'config=' 'list-deployments' 'replica' 'failover' 'yes' 'confirm-above=' 'stat' 'latency' 'latency-history' 'latency-dist' 'mono' 'intrinsic-latency=' 'scan' 'bigkeys' 'memkeys' 'keystats' 'keystats-samples=' 'top=' 'hotkeys' 'memkeys-samples=' 'pattern=' 'quoted-pattern=' 'count=' 'cursor=' 'master' 'rdb=' 'functions-rdb=' 'pipe' 'pipe-timeout=' 'natmap=+' 'tls' 'sni=' 'cacert=' 'cacertdir=' 'cert=' 'key=' 'insecure' 'sentinel-tls' 'sentinel-cacert=' 'sentinel-cert=' 'sentinel-key=' 'r/repeat=' 'i/interval=' 't/timeout=' 'connect-timeout=' 'sentinel-timeout=' 'events' 'verbose' 'log-level=' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __sentinel-repl_parse_subcommand -r 1 'version'
        end
    end
end

function __sentinel-repl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __sentinel-repl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __sentinel-repl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __sentinel-repl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__sentinel-repl_tokens -p)
    if test -z "$(__sentinel-repl_tokens -t)"
        set -l index (count (__sentinel-repl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'sentinel-repl' -f
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl"' -s 's' -l 'sentinel' -d 'A sentinel to ask, host:port; repeat it or separate with commas, in order (env SENTINEL_REPL_SENTINELS, comma-separated; default 127.0.0.1:26379).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" db n' -s 'n' -l 'db' -d 'Database number (default 0).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" user' -l 'user' -d 'ACL user for the master and replicas.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" a pass' -s 'a' -l 'pass' -d 'Password for the master and replicas (unsafe on a command line; prefer env REDISCLI_AUTH).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" askpass' -l 'askpass' -d 'Read the data-node password from the terminal, without echo.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-user' -l 'sentinel-user' -d 'ACL user for the sentinels.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-pass' -l 'sentinel-pass' -d 'Password for the sentinels (or env SENTINEL_REPL_SENTINEL_AUTH).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" 2' -s '2' -d 'Use RESP2 (the default).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" 3' -s '3' -d 'Use RESP3 (HELLO 3).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" raw' -l 'raw' -d 'Print replies raw (the default when stdout is not a terminal).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" no-raw' -l 'no-raw' -d 'Print replies formatted, even when stdout is not a terminal.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" csv' -l 'csv' -d 'Print replies as CSV.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" json' -l 'json' -d 'Print replies as JSON (RESP3 unless -2 is given).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" quoted-json' -l 'quoted-json' -d 'Print replies as JSON with ASCII-safe quoted strings (RESP3 unless -2 is given).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" e' -s 'e' -d 'Exit 1 when a command got an error reply (non-interactive modes).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" history-file' -l 'history-file' -d 'History file (env SENTINEL_REPL_HISTFILE; default ~/.sentinel_repl_history; /dev/null disables).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" u url' -s 'u' -l 'url' -d 'redis+sentinel://[user:pass@]host[:port][,host[:port]...]/master-name[/db][?sentinel_user=U&sentinel_pass=P] in place of -s, the master name, -n and credentials (env SENTINEL_REPL_URL keeps a password out of ps); then every word after the options is the command.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" config' -l 'config' -d 'The config file of named deployments (env SENTINEL_REPL_CONFIG; default $XDG_CONFIG_HOME/sentinel-repl/config.toml, else ~/.config/...).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" list-deployments' -l 'list-deployments' -d 'List the config file\'s deployments, then exit.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" replica' -l 'replica' -d 'Open a read-only session on a healthy replica (round-robin); \':use master\' and \':use replica [host:port]\' switch at the prompt.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" failover' -l 'failover' -d 'Run a failover that loses no acknowledged write (shows the plan and asks first), then exit.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" yes' -l 'yes' -d 'Do not ask first: neither --failover nor the prompt before a dangerous command (env SENTINEL_REPL_YES=1).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" confirm-above' -l 'confirm-above' -d 'At the prompt, KEYS and whole-key reads (SMEMBERS, HGETALL, LRANGE k 0 -1...) ask first above N keys or elements. (default: 100000)' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" stat' -l 'stat' -d 'Print a rolling line of the master\'s stats (INFO) every -i seconds, as redis-cli --stat, following failovers.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" latency' -l 'latency' -d 'Measure the master\'s latency (PING every 10 ms), as redis-cli --latency, following failovers.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" latency-history' -l 'latency-history' -d 'Like --latency, one line per -i seconds (15 by default).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" latency-dist' -l 'latency-dist' -d 'Show the master\'s latency as a spectrum, one coloured line per -i seconds (1 by default; xterm 256 colours), as redis-cli --latency-dist, following failovers.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" mono' -l 'mono' -d 'With --latency-dist: a grey palette instead of colours.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" intrinsic-latency' -l 'intrinsic-latency' -d 'Measure this machine\'s own latency (how long the kernel keeps a process from running) for this many seconds, as redis-cli does; no server is asked.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" scan' -l 'scan' -d 'List the keys (SCAN) as redis-cli --scan does, from a healthy replica unless --master, then exit.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" bigkeys' -l 'bigkeys' -d 'Find the biggest key of each type, as redis-cli --bigkeys does, from a healthy replica unless --master.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" memkeys' -l 'memkeys' -d 'Find the keys that use the most memory (MEMORY USAGE), as redis-cli --memkeys does.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" keystats' -l 'keystats' -d 'Key sizes and lengths, their distribution and the top keys, as redis-cli 7.4 --keystats reports them (any server version), from a healthy replica unless --master.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" keystats-samples' -l 'keystats-samples' -d 'With --keystats: MEMORY USAGE\'s SAMPLES (implies --keystats; 0: every element).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" top' -l 'top' -d 'With --keystats: how many of the biggest keys to list (10 by default; 0: none).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" hotkeys' -l 'hotkeys' -d 'Find the hot keys (LFU counters, OBJECT FREQ) as redis-cli --hotkeys does; on the master, which keeps them.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" memkeys-samples' -l 'memkeys-samples' -d 'With --memkeys: MEMORY USAGE\'s SAMPLES (implies --memkeys).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" pattern' -l 'pattern' -d 'Keys matching this pattern (SCAN MATCH), with --scan, --bigkeys, --memkeys, --keystats, --hotkeys.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" quoted-pattern' -l 'quoted-pattern' -d 'Same as --pattern, written as a quoted string (\\x00 escapes) for bytes a shell cannot pass.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" count' -l 'count' -d 'SCAN\'s COUNT hint, with --scan, --bigkeys, --memkeys, --keystats, --hotkeys.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" cursor' -l 'cursor' -d 'Start the scan at this cursor (as a Ctrl-C of --scan printed it: it means something on that server only).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" master' -l 'master' -d 'With --scan, --bigkeys, --memkeys, --keystats, --rdb, --functions-rdb: read the master, not a healthy replica.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" rdb' -l 'rdb' -d 'Save a snapshot (RDB) of the dataset to this file (\'-\': stdout), from a healthy replica unless --master, as redis-cli --rdb.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" functions-rdb' -l 'functions-rdb' -d 'Like --rdb, with the functions alone (Redis 7).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" pipe' -l 'pipe' -d 'Send the RESP on standard input to the master, pipelined, as redis-cli --pipe (stops at a failover and says what ran).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" pipe-timeout' -l 'pipe-timeout' -d 'With --pipe: give up when no reply came this many seconds after the input ended (0: wait forever).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl"' -l 'natmap' -d 'Dial an address Sentinel names elsewhere (an SSH tunnel, Docker, kubectl port-forward); repeatable. FROM and TO are host:port, or a host for every port.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" tls' -l 'tls' -d 'Connect to the master and replicas over TLS.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sni' -l 'sni' -d 'Server name for TLS (SNI) and the certificate check, instead of the host Sentinel returns.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" cacert' -l 'cacert' -d 'PEM file of the CAs to trust (default: the system\'s).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" cacertdir' -l 'cacertdir' -d 'Directory of trusted CA files, hashed (openssl rehash).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" cert' -l 'cert' -d 'Client certificate (PEM) for servers that ask for one.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" key' -l 'key' -d 'Private key (PEM) of --cert.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" insecure' -l 'insecure' -d 'Skip the TLS certificate check (for tests only).'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-tls' -l 'sentinel-tls' -d 'Connect to the sentinels over TLS, with the TLS files above unless given below.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-cacert' -l 'sentinel-cacert' -d 'PEM file of the CAs the sentinels\' certificates are checked with.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-cert' -l 'sentinel-cert' -d 'Client certificate (PEM) for the sentinels.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-key' -l 'sentinel-key' -d 'Private key (PEM) of --sentinel-cert.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" r repeat' -s 'r' -l 'repeat' -d 'Run the command N times (-1: until Ctrl-C), one reply each, following failovers. (default: 1)' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" i interval' -s 'i' -l 'interval' -d 'Seconds (decimals allowed) between repetitions (-r, \'N command\'), --stat lines, --latency-history ranges and --latency-dist lines; a sleep after each page of --scan (each 100 of --bigkeys, --memkeys, --keystats, --hotkeys). (default: 0.0)' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" t timeout' -s 't' -l 'timeout' -d 'Seconds (decimals allowed) a reply may take before its command is reported in doubt; default: no bound, a command waits as long as its master lives and is the master.' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" connect-timeout' -l 'connect-timeout' -d 'Bound on connecting to a master or replica, its TLS handshake included (seconds, decimals allowed; 2 by default).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" sentinel-timeout' -l 'sentinel-timeout' -d 'Bound on one try at a sentinel (connect, TLS, its answer) and on the ROLE check of the master it names (seconds; 1 by default).' -rfka ''
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" events' -l 'events' -d 'Outside the prompt, print Sentinel\'s events and failovers on stderr, one line each, with a timestamp.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" verbose' -l 'verbose' -d 'Log what the client does (discovery, ROLE checks, events, reconnects) to stderr.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" log-level' -l 'log-level' -d 'Log the client\'s lines from this level on to stderr: trace, debug, info, notice, warning, error.' -rfka 'trace debug info notice warning error critical'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" version' -l 'version' -d 'Show the version.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_positional "sentinel-repl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'sentinel-repl' -n '__sentinel-repl_should_offer_completions_for_flags_or_options "sentinel-repl help" version' -l 'version' -d 'Show the version.'
