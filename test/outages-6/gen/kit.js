// The same rendering kit as the fifth set (paging, incident header, label).
export * from '../../outages-5/gen/kit.js';
