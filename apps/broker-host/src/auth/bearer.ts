/** `Authorization: Bearer <token>`: the scheme is case-insensitive (RFC 9110); the token is not. */
export const BEARER = /^Bearer ([\x21-\x7e]{1,1024})$/i;
