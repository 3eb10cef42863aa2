// Commands and replies are RESP values: an adopter imports SentinelClient alone.
@_exported import RESP
