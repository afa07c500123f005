export const BUS_LOG_FORMAT_VERSION = 1;
